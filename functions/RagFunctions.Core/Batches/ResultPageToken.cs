using System.Buffers.Text;
using System.Globalization;
using System.Text;
using RagFunctions.Core.Input;

namespace RagFunctions.Core.Batches;

/// <summary>
/// The continuation token of a batch's result pages: version 1 is base64url of <c>1:{batchId}:{index}</c>, the first
/// result index of the next page. It carries no secret and needs none: it is bound to its batch and strictly parsed,
/// so any pod accepts a token any other pod issued, and a token that does not parse, or names another batch, is
/// rejected rather than read as "start somewhere". All it can select is rows of the batch the caller already names.
/// </summary>
public static class ResultPageToken
{
    public const string Parameter = "continuationToken";
    private const string Version = "1";
    private const int MaxLength = 128;

    public static string Create(string batchId, int nextIndex) =>
        Base64Url.EncodeToString(Encoding.ASCII.GetBytes($"{Version}:{batchId}:{nextIndex.ToString(CultureInfo.InvariantCulture)}"));

    /// <summary>The first index of the page <paramref name="token"/> points at, or null with the reason added to <paramref name="errors"/>.</summary>
    public static int? Parse(string token, string batchId, InputErrors errors)
    {
        if (token.Length is 0 or > MaxLength || !Base64Url.IsValid(token))
        {
            return Invalid(errors);
        }

        var text = Encoding.ASCII.GetString(Base64Url.DecodeFromChars(token));
        var parts = text.Split(':');
        if (parts is not [Version, var id, var index] || !BatchIds.IsWellFormed(id)
            || !int.TryParse(index, NumberStyles.None, CultureInfo.InvariantCulture, out var next)
            || index != next.ToString(CultureInfo.InvariantCulture)
            || Create(id, next) != token)
        {
            return Invalid(errors);
        }

        if (!string.Equals(id, batchId, StringComparison.Ordinal))
        {
            errors.Add(Parameter, $"'{Parameter}' was issued for another batch; use the token from this batch's previous page.");
            return null;
        }

        return next;
    }

    private static int? Invalid(InputErrors errors)
    {
        errors.Add(Parameter, $"'{Parameter}' is not a token this API issued; pass the value of 'continuationToken' from the previous page, or omit it for the first page.");
        return null;
    }
}
