using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace RagFunctions.Core.Input;

/// <summary>
/// The one way a JSON document enters the app, whether it came as an HTTP body or a queue message, so both give the
/// same input the same meaning: UTF-8 only (a leading UTF-8 byte order mark is ignored, as RFC 8259 §8.1 allows;
/// UTF-16, UTF-32 and invalid UTF-8 are rejected with "send UTF-8"), no comments, no trailing commas, nesting at most
/// <see cref="MaxDepth"/>. Errors are keyed "$" and never echo more than a character of the input.
/// </summary>
public static partial class StrictJson
{
    public const int MaxDepth = 64;

    private const string Field = "$";

    private static readonly JsonDocumentOptions Options = new()
    {
        MaxDepth = MaxDepth,
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
        // Duplicates are reported by JsonObjectReader, which can quote the name within bounds.
        AllowDuplicateProperties = true,
    };

    /// <summary>Parses <paramref name="utf8"/> (what: "body", "message") or throws <see cref="InvalidRequestException"/>.</summary>
    public static JsonDocument Parse(ReadOnlyMemory<byte> utf8, string what)
    {
        var bytes = utf8.Span;
        if (bytes.StartsWith("\uFEFF"u8))
        {
            utf8 = utf8[3..];
            bytes = utf8.Span;
        }

        if (bytes.IsEmpty || bytes.IndexOfAnyExcept(" \t\r\n"u8) < 0)
        {
            throw InvalidRequestException.For(Field, $"The {what} is empty; send a JSON object.");
        }

        if (WideEncodingOf(bytes) is { } encoding)
        {
            throw InvalidRequestException.For(Field, $"The {what} is {encoding}; send it as UTF-8.");
        }

        if (FirstInvalidUtf8(bytes) is { } offset)
        {
            throw InvalidRequestException.For(Field, $"The {what} is not valid UTF-8 (byte {offset + 1}); send it as UTF-8.");
        }

        try
        {
            return JsonDocument.Parse(utf8, Options);
        }
        catch (JsonException ex)
        {
            throw InvalidRequestException.For(Field, $"Malformed JSON in the {what}{Position(ex)}: {ReasonOf(ex)}");
        }
    }

    /// <summary>UTF-16 and UTF-32 show themselves by a byte order mark or by NUL bytes among the first four, which no JSON text in UTF-8 has.</summary>
    private static string? WideEncodingOf(ReadOnlySpan<byte> bytes)
    {
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0x00, 0x00, 0xFE, 0xFF]) || bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE, 0x00, 0x00]))
        {
            return "UTF-32";
        }

        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]) || bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]))
        {
            return "UTF-16";
        }

        var head = bytes[..Math.Min(4, bytes.Length)];
        if (head.Length >= 2 && head.Contains((byte)0))
        {
            return head.Length == 4 && (head[..3].IndexOfAnyExcept((byte)0) < 0 || head[1..].IndexOfAnyExcept((byte)0) < 0) ? "UTF-32" : "UTF-16";
        }

        return null;
    }

    private static int? FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        var offset = 0;
        while (offset < bytes.Length)
        {
            var ascii = bytes[offset..].IndexOfAnyExceptInRange((byte)0, (byte)0x7F);
            if (ascii < 0)
            {
                return null;
            }

            offset += ascii;
            if (Rune.DecodeFromUtf8(bytes[offset..], out _, out var consumed) != OperationStatus.Done)
            {
                return offset;
            }

            offset += consumed;
        }

        return null;
    }

    private static string Position(JsonException ex) =>
        ex.LineNumber is { } line && ex.BytePositionInLine is { } column ? $" at line {line + 1}, byte {column + 1}" : string.Empty;

    /// <summary>The reader's own sentence without its position suffix, with what it quotes from the input quoted as all user input is.</summary>
    private static string ReasonOf(JsonException ex)
    {
        var message = ex.Message;
        var suffix = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (suffix < 0)
        {
            suffix = message.IndexOf(" Path:", StringComparison.Ordinal);
        }

        // A quote mark inside the input could leave part of it outside the match: the byte bound holds regardless.
        return UserText.Bound(QuotedInput().Replace(suffix < 0 ? message : message[..suffix], match => UserText.Quote(match.Groups[1].Value)), 300);
    }

    /// <summary>The reader quotes what it read in single quotes (a byte, a character, or a whole mistyped literal of any length).</summary>
    [GeneratedRegex("'([^']*)'")]
    private static partial Regex QuotedInput();
}
