using System.Buffers;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;
using RagFunctions.Core.Input;
using RagFunctions.Core.Options;

namespace RagFunctions.Core.Pipeline;

/// <summary>
/// The one question model, used for HTTP queries, batch submissions and queue messages alike. A question is valid
/// Unicode text, normalized to NFC and trimmed, with no control characters but tab, CR and LF, with at least one
/// visible character (anything but format characters, separators and controls), and at most
/// <see cref="RagOptions.MaxQuestionChars"/> characters, counted as Unicode scalar values.
/// </summary>
public sealed class QueryValidator(IOptions<RagOptions> options)
{
    private readonly RagOptions _options = options.Value;

    /// <summary>Returns the normalized question and the canonical domain (or null), or throws <see cref="InvalidRequestException"/>.</summary>
    public (string Question, string? Domain) Validate(string? question, string? domain)
    {
        var errors = new InputErrors();
        var text = Question(question, "question", errors);
        var canonical = Domain(domain, "domain", errors);
        errors.ThrowIfAny();
        return (text!, canonical);
    }

    /// <summary>The normalized question, or null with the reason added to <paramref name="errors"/> under <paramref name="field"/>.</summary>
    public string? Question(string? question, string field, InputErrors errors)
    {
        if (string.IsNullOrEmpty(question))
        {
            errors.Add(field, $"'{field}' is required and must not be empty.");
            return null;
        }

        if (FirstProblem(question) is { } problem)
        {
            errors.Add(field, $"'{field}' {problem}; remove it.");
            return null;
        }

        // Valid UTF-16 without controls from here on, so normalization cannot throw.
        var text = question.Normalize(NormalizationForm.FormC).Trim();
        if (!HasVisibleCharacter(text))
        {
            errors.Add(field, text.Length == 0
                ? $"'{field}' is required and must not be empty."
                : $"'{field}' has no visible character (it is only format characters, separators or line breaks: {UserText.Quote(text)}).");
            return null;
        }

        var length = UserText.ScalarLength(text);
        if (length > _options.MaxQuestionChars)
        {
            errors.Add(field, $"'{field}' has {length} characters (Unicode scalar values); the limit is {_options.MaxQuestionChars}.");
            return null;
        }

        return text;
    }

    /// <summary>The allow-listed spelling of <paramref name="domain"/>, null for all domains, or null with an error.</summary>
    public string? Domain(string? domain, string field, InputErrors errors)
    {
        if (domain is null)
        {
            return null;
        }

        foreach (var allowed in _options.Domains)
        {
            if (string.Equals(allowed, domain, StringComparison.OrdinalIgnoreCase))
            {
                return allowed;
            }
        }

        errors.Add(field, $"Unknown domain {UserText.Quote(domain)}. Use one of: {string.Join(", ", _options.Domains)}, or null for all.");
        return null;
    }

    /// <summary>An unpaired surrogate, or a C0/C1 control other than tab, CR and LF, with its position; null when there is none.</summary>
    private static string? FirstProblem(string text)
    {
        var position = 0;
        var index = 0;
        while (index < text.Length)
        {
            position++;
            if (Rune.DecodeFromUtf16(text.AsSpan(index), out var rune, out var consumed) != OperationStatus.Done)
            {
                return $"contains an unpaired surrogate U+{(int)text[index]:X4} at character {position}";
            }

            if (Rune.IsControl(rune) && rune.Value is not ('\t' or '\r' or '\n'))
            {
                return $"contains the control character U+{rune.Value:X4} at character {position}";
            }

            index += consumed;
        }

        return null;
    }

    private static bool HasVisibleCharacter(string text)
    {
        foreach (var rune in text.EnumerateRunes())
        {
            if (Rune.GetUnicodeCategory(rune) is not (UnicodeCategory.Format or UnicodeCategory.Control or UnicodeCategory.SpaceSeparator
                or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator))
            {
                return true;
            }
        }

        return false;
    }
}
