using System.Globalization;
using System.Text;

namespace RagFunctions.Core.Input;

/// <summary>How user input is echoed back: quoted, at most <see cref="MaxQuoted"/> characters, invisible and control characters escaped.</summary>
public static class UserText
{
    public const int MaxQuoted = 64;

    /// <summary>
    /// <c>"abc"</c>, or <c>"abc…" (10000 characters)</c> when longer than <see cref="MaxQuoted"/> Unicode scalar values.
    /// Quotes, backslashes, controls, format characters, separators other than space and unpaired surrogates are
    /// written as escapes, so what the caller sees is what they sent, including what they could not see.
    /// </summary>
    public static string Quote(string? text)
    {
        if (text is null)
        {
            return "null";
        }

        var quoted = new StringBuilder(Math.Min(text.Length, MaxQuoted) + 16).Append('"');
        var shown = 0;
        var index = 0;
        while (index < text.Length && shown < MaxQuoted)
        {
            if (Rune.DecodeFromUtf16(text.AsSpan(index), out var rune, out var consumed) != System.Buffers.OperationStatus.Done)
            {
                quoted.Append(CultureInfo.InvariantCulture, $"\\u{(int)text[index]:X4}");
            }
            else
            {
                AppendEscaped(quoted, rune);
            }

            index += consumed;
            shown++;
        }

        quoted.Append('"');
        if (index < text.Length)
        {
            quoted.Insert(quoted.Length - 1, '…').Append(CultureInfo.InvariantCulture, $" ({ScalarLength(text)} characters)");
        }

        return quoted.ToString();
    }

    /// <summary>Unicode scalar values in <paramref name="text"/>: the unit of every length limit on text (an emoji is 1, a flag is 2).</summary>
    public static int ScalarLength(string text)
    {
        var count = 0;
        foreach (var _ in text.EnumerateRunes())
        {
            count++;
        }

        return count;
    }

    /// <summary><paramref name="text"/> cut to at most <paramref name="maxUtf8Bytes"/> UTF-8 bytes (an ellipsis included), on a character boundary.</summary>
    public static string Bound(string text, int maxUtf8Bytes)
    {
        if (Encoding.UTF8.GetByteCount(text) <= maxUtf8Bytes)
        {
            return text;
        }

        var budget = maxUtf8Bytes - 3;
        var end = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            budget -= rune.Utf8SequenceLength;
            if (budget < 0)
            {
                break;
            }

            end += rune.Utf16SequenceLength;
        }

        return text[..end] + "…";
    }

    private static void AppendEscaped(StringBuilder builder, Rune rune)
    {
        switch (rune.Value)
        {
            case '"':
                builder.Append("\\\"");
                return;
            case '\\':
                builder.Append("\\\\");
                return;
            case ' ':
                builder.Append(' ');
                return;
        }

        var category = Rune.GetUnicodeCategory(rune);
        if (category is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.SpaceSeparator
            or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned)
        {
            if (rune.IsBmp)
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\u{rune.Value:X4}");
            }
            else
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\U{rune.Value:X8}");
            }

            return;
        }

        builder.Append(rune.ToString());
    }
}
