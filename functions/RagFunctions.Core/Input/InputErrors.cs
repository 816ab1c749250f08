using System.Globalization;
using System.Text;

namespace RagFunctions.Core.Input;

/// <summary>
/// Collects every problem with one input before rejecting it, so a caller fixes them all in one round trip. Bounded:
/// at most <see cref="MaxMessages"/> messages are kept, over all fields (the rest are counted, never listed: a body of
/// thousands of unknown or repeated members must not become an answer of megabytes), and the summary stays under
/// <see cref="MaxDetailBytes"/> UTF-8 bytes whatever the input.
/// </summary>
public sealed class InputErrors
{
    public const int MaxMessages = 20;
    public const int MaxDetailBytes = 1000;

    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];
    private int _kept;
    private int _omitted;

    public bool Any => _order.Count > 0;

    /// <summary>Adds <paramref name="message"/>, a full sentence that names the field, under <paramref name="field"/>.</summary>
    public void Add(string field, string message)
    {
        if (_kept >= MaxMessages)
        {
            _omitted++;
            return;
        }

        if (!_errors.TryGetValue(field, out var messages))
        {
            messages = [];
            _errors[field] = messages;
            _order.Add(field);
        }

        messages.Add(message);
        _kept++;
    }

    public void ThrowIfAny()
    {
        if (Any)
        {
            throw ToException();
        }
    }

    public InvalidRequestException ToException() =>
        new(_order.ToDictionary(f => f, f => _errors[f].ToArray(), StringComparer.Ordinal), Summary());

    /// <summary>The messages joined in the order they were found, as many whole ones as fit under <see cref="MaxDetailBytes"/>.</summary>
    private string Summary()
    {
        var messages = _order.SelectMany(f => _errors[f]).ToList();
        var detail = new StringBuilder(UserText.Bound(messages[0], MaxDetailBytes - 80));
        var shown = 1;
        var bytes = Encoding.UTF8.GetByteCount(detail.ToString());
        foreach (var message in messages.Skip(1))
        {
            var size = Encoding.UTF8.GetByteCount(message) + 1;
            if (bytes + size > MaxDetailBytes - 80)
            {
                break;
            }

            detail.Append(' ').Append(message);
            bytes += size;
            shown++;
        }

        var more = messages.Count - shown + _omitted;
        if (more > 0)
        {
            // Say where the rest are only when they are there: past MaxMessages they are counted, not listed.
            detail.Append(" (").Append(more).Append(more == 1 ? " more problem" : " more problems")
                .Append(_omitted == 0 ? " in 'errors'.)" : "; 'errors' lists the first " + MaxMessages.ToString(CultureInfo.InvariantCulture) + ".)");
        }

        return detail.ToString();
    }
}
