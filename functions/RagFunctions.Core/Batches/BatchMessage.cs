using System.Text.Json;
using RagFunctions.Core.Input;

namespace RagFunctions.Core.Batches;

/// <summary>
/// One queue message, schema version 1: <c>{"version":1,"batchId":"…","index":0,"question":"…","domain":null}</c>.
/// Every member but <c>domain</c> is required, names are case-sensitive, and no other member is allowed. It is parsed
/// by <see cref="StrictJson"/> and <see cref="JsonObjectReader"/>, exactly as an HTTP body is.
/// </summary>
public sealed record BatchMessage(string BatchId, int Index, string Question, string? Domain)
{
    public const int CurrentVersion = 1;

    private const string VersionName = "version";
    private const string BatchIdName = "batchId";
    private const string IndexName = "index";
    private const string QuestionName = "question";
    private const string DomainName = "domain";

    public byte[] ToUtf8()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber(VersionName, CurrentVersion);
            writer.WriteString(BatchIdName, BatchId);
            writer.WriteNumber(IndexName, Index);
            writer.WriteString(QuestionName, Question);
            writer.WriteString(DomainName, Domain);
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>The message, or <see cref="InvalidQueueMessageException"/> naming every missing, unknown or wrongly typed member.</summary>
    public static BatchMessage Parse(ReadOnlyMemory<byte> utf8)
    {
        try
        {
            using var document = StrictJson.Parse(utf8, "message");
            var errors = new InputErrors();
            var reader = JsonObjectReader.Open(document.RootElement, "message", errors, VersionName, BatchIdName, IndexName, QuestionName, DomainName);
            if (reader is null)
            {
                throw errors.ToException();
            }

            var version = reader.Int(VersionName);
            if (version is { } v && v != CurrentVersion)
            {
                errors.Add(VersionName, $"'{VersionName}' is {v}; this app reads version {CurrentVersion}.");
            }

            var batchId = reader.String(BatchIdName, required: true);
            if (batchId is not null && !BatchIds.IsWellFormed(batchId))
            {
                errors.Add(BatchIdName, $"'{BatchIdName}' {UserText.Quote(batchId)} is not a batch id (32 lowercase hex digits).");
            }

            var index = reader.Int(IndexName);
            if (index < 0)
            {
                errors.Add(IndexName, $"'{IndexName}' is {index}; it must not be negative.");
            }

            var question = reader.String(QuestionName, required: true);
            var domain = reader.String(DomainName, required: false);
            errors.ThrowIfAny();
            return new BatchMessage(batchId!, index!.Value, question!, domain);
        }
        catch (InvalidRequestException ex)
        {
            throw new InvalidQueueMessageException($"Invalid queue message: {ex.Detail}");
        }
    }
}

/// <summary>Batch ids are <see cref="Guid"/>s in "N" format, lowercase, as <see cref="BatchSubmission"/> creates them.</summary>
public static class BatchIds
{
    public static string New() => Guid.NewGuid().ToString("N");

    public static bool IsWellFormed(string id) =>
        id.Length == 32 && Guid.TryParseExact(id, "N", out _) && !id.AsSpan().ContainsAnyInRange('A', 'F');
}
