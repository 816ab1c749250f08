using Microsoft.Extensions.Options;
using RagFunctions.Core.Options;

namespace RagFunctions.Core.Pipeline;

/// <summary>Checks a question and maps a requested domain onto the configured allow-list.</summary>
public sealed class QueryValidator(IOptions<RagOptions> options)
{
    private readonly RagOptions _options = options.Value;

    /// <summary>Returns the trimmed question and the canonical domain (or null), or throws <see cref="InvalidRequestException"/>.</summary>
    public (string Question, string? Domain) Validate(string? question, string? domain, string field = "question")
    {
        if (string.IsNullOrWhiteSpace(question))
        {
            throw InvalidRequestException.BadRequest($"'{field}' is required and must not be empty.");
        }

        var trimmed = question.Trim();
        if (trimmed.AsSpan().ContainsAnyInRange('\u0000', '\u0008') || trimmed.AsSpan().ContainsAnyInRange('\u000E', '\u001F') || trimmed.Contains('\u007F', StringComparison.Ordinal))
        {
            throw InvalidRequestException.BadRequest($"'{field}' contains control characters.");
        }

        if (trimmed.Length > _options.MaxQuestionChars)
        {
            throw InvalidRequestException.BadRequest(
                $"'{field}' has {trimmed.Length} characters; the limit is {_options.MaxQuestionChars}.");
        }

        return (trimmed, CanonicalDomain(domain));
    }

    public string? CanonicalDomain(string? domain)
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

        throw InvalidRequestException.BadRequest(
            $"Unknown domain. Use one of: {string.Join(", ", _options.Domains)}, or null for all.");
    }
}
