using System.Text.Json;
using RagFunctions.Core.Input;

namespace RagFunctions.Core.Batches;

/// <summary>
/// One queue message, schema version 2: <c>{"version":2,"batchId":"…","index":0}</c>. It only locates its question:
/// the question and the domain are read from the batch as submitted (<see cref="BatchQuestions"/>), so whoever can
/// write to the queue cannot choose what is answered or where it is looked up. Every member is required, names are
/// case-sensitive, no other member is allowed, and a message is at most <see cref="MaxBytes"/> bytes. It is parsed by
/// <see cref="StrictJson"/> and <see cref="JsonObjectReader"/>, exactly as an HTTP body is.
/// </summary>
public sealed record BatchMessage(string BatchId, int Index)
{
    public const int CurrentVersion = 2;

    /// <summary>
    /// The largest message accepted. The app writes at most 72 bytes (32-digit batch id, index ≤ 99999); the rest is
    /// room for whitespace, and anything longer is not a message this app wrote.
    /// </summary>
    public const int MaxBytes = 256;

    private const string VersionName = "version";
    private const string BatchIdName = "batchId";
    private const string IndexName = "index";

    // Members of schema version 1 that chose the question and its domain; the batch decides both now.
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
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>The message, or <see cref="InvalidQueueMessageException"/> naming every missing, unknown, forbidden or wrongly typed member.</summary>
    public static BatchMessage Parse(ReadOnlyMemory<byte> utf8)
    {
        if (utf8.Length > MaxBytes)
        {
            throw new InvalidQueueMessageException(
                $"Invalid queue message: it is {utf8.Length} bytes; a version-{CurrentVersion} message is at most {MaxBytes} bytes.");
        }

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
                errors.Add(VersionName, $"'{VersionName}' is {v}; this app reads version {CurrentVersion} (a version-1 message is not answered: drain the queue before upgrading).");
            }

            foreach (var forbidden in (ReadOnlySpan<string>)[QuestionName, DomainName])
            {
                if (reader.Has(forbidden))
                {
                    errors.Add(forbidden, $"'{forbidden}' is not allowed: a message names its question by batch id and index only, and the question and domain are read from the batch.");
                }
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

            errors.ThrowIfAny();
            return new BatchMessage(batchId!, index!.Value);
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
