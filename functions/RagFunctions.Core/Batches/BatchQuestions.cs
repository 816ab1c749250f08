using System.Text;
using Azure.Data.Tables;

namespace RagFunctions.Core.Batches;

/// <summary>
/// The questions of a batch as submitted, stored in the batch's partition of the batch table (RowKey
/// <c>q000000</c>…), which is what processing answers: a queue message only locates one of them.
/// A Table string property holds at most 32K UTF-16 code units (64 KiB), and a question may have up to
/// Rag:MaxQuestionChars = 100000 Unicode scalar values (200000 code units), so a question is split over properties
/// <c>Text0</c>, <c>Text1</c>… of at most <see cref="MaxPartChars"/> code units each, never inside a surrogate pair;
/// the longest question is 7 parts, about 400 KB stored, under the 1 MiB entity limit.
/// </summary>
public static class BatchQuestions
{
    public const int MaxPartChars = 32_000;

    private const string RowPrefix = "q";
    private const string PartPrefix = "Text";
    private const string PartsName = "Parts";

    // Entity group transactions allow 100 actions and 4 MiB; stay at 3 MiB so the estimate below cannot overshoot.
    private const int MaxActionsPerTransaction = 100;
    private const long MaxTransactionBytes = 3L * 1024 * 1024;

    // Bytes an entity can take in a transaction's body: the JSON serializer may escape a code unit as \uXXXX (6 bytes),
    // plus keys, property names and the change set's headers.
    private const int BytesPerChar = 6;
    private const int BytesPerEntity = 1024;

    public static string RowKeyOf(int index) => RowPrefix + ResultEntity.RowKeyOf(index);

    /// <summary>
    /// Writes every question of a batch in entity group transactions (≤ 100 actions, ≤ 3 MiB each). Call it before the
    /// batch row is written: until then the batch does not exist, so a half-written batch is never read or processed.
    /// </summary>
    public static async Task WriteAsync(TableClient table, string batchId, IReadOnlyList<string> questions, CancellationToken cancellationToken)
    {
        var actions = new List<TableTransactionAction>(MaxActionsPerTransaction);
        long bytes = 0;
        for (var i = 0; i < questions.Count; i++)
        {
            var size = BytesPerEntity + ((long)questions[i].Length * BytesPerChar);
            if (actions.Count == MaxActionsPerTransaction || (actions.Count > 0 && bytes + size > MaxTransactionBytes))
            {
                await table.SubmitTransactionAsync(actions, cancellationToken);
                actions.Clear();
                bytes = 0;
            }

            actions.Add(new TableTransactionAction(TableTransactionActionType.Add, EntityOf(batchId, i, questions[i])));
            bytes += size;
        }

        if (actions.Count > 0)
        {
            await table.SubmitTransactionAsync(actions, cancellationToken);
        }
    }

    /// <summary>The question at <paramref name="index"/> of the batch, or null when the batch stores none there.</summary>
    public static async Task<string?> ReadAsync(TableClient table, string batchId, int index, CancellationToken cancellationToken)
    {
        var row = await table.GetEntityIfExistsAsync<TableEntity>(batchId, RowKeyOf(index), cancellationToken: cancellationToken);
        if (!row.HasValue || row.Value is not { } entity || entity.GetInt32(PartsName) is not { } parts)
        {
            return null;
        }

        var text = new StringBuilder();
        for (var part = 0; part < parts; part++)
        {
            text.Append(entity.GetString(PartPrefix + part));
        }

        return text.ToString();
    }

    /// <summary>The question split into parts of at most <see cref="MaxPartChars"/> code units, none ending inside a surrogate pair.</summary>
    public static IReadOnlyList<string> Split(string question)
    {
        var parts = new List<string>();
        var start = 0;
        while (start < question.Length)
        {
            var length = Math.Min(MaxPartChars, question.Length - start);
            if (start + length < question.Length && char.IsHighSurrogate(question[start + length - 1]))
            {
                length--;
            }

            parts.Add(question.Substring(start, length));
            start += length;
        }

        return parts;
    }

    private static TableEntity EntityOf(string batchId, int index, string question)
    {
        var parts = Split(question);
        var entity = new TableEntity(batchId, RowKeyOf(index)) { [PartsName] = parts.Count };
        for (var part = 0; part < parts.Count; part++)
        {
            entity[PartPrefix + part] = parts[part];
        }

        return entity;
    }
}
