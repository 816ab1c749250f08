using System.Globalization;
using System.Text.Json;

namespace RagFunctions.Core.Input;

/// <summary>
/// Reads the members of one JSON object against a fixed list of names (case-sensitive), so every input has one
/// meaning: an unknown or repeated name, and a value of the wrong JSON type, is an error on that field. Errors name
/// JSON types (string, number), never .NET types, and quote user input through <see cref="UserText"/>.
/// </summary>
public sealed class JsonObjectReader
{
    private readonly Dictionary<string, JsonElement> _members;
    private readonly InputErrors _errors;

    private JsonObjectReader(Dictionary<string, JsonElement> members, InputErrors errors)
    {
        _members = members;
        _errors = errors;
    }

    /// <summary>The reader over <paramref name="root"/>, or null (with the error added) when it is not an object.</summary>
    public static JsonObjectReader? Open(JsonElement root, string what, InputErrors errors, params string[] names)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            errors.Add("$", root.ValueKind == JsonValueKind.Null
                ? $"The {what} is JSON null; send a JSON object."
                : $"The {what} must be a JSON object, not {KindOf(root)}.");
            return null;
        }

        var members = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var member in root.EnumerateObject())
        {
            var name = NameOf(member);
            if (name is null)
            {
                errors.Add("$", $"A property name of the {what} contains an escaped unpaired surrogate; send valid Unicode text.");
            }
            else if (!names.Contains(name, StringComparer.Ordinal))
            {
                errors.Add("$", $"Unknown property {UserText.Quote(name)}; the {what} may have: {string.Join(", ", names)}.");
            }
            else if (!members.TryAdd(name, member.Value))
            {
                errors.Add(name, $"'{name}' appears more than once; send it once.");
            }
        }

        return new JsonObjectReader(members, errors);
    }

    public bool Has(string name) => _members.ContainsKey(name);

    /// <summary>The string value, or null when absent, JSON null or of another type (then an error is added).</summary>
    public string? String(string name, bool required)
    {
        if (!_members.TryGetValue(name, out var value))
        {
            if (required)
            {
                _errors.Add(name, $"'{name}' is required.");
            }

            return null;
        }

        return value.ValueKind == JsonValueKind.Null && !required ? null : StringOf(value, name, _errors);
    }

    /// <summary>A whole number within <see cref="int"/>, or null (with an error) when absent or anything else.</summary>
    public int? Int(string name)
    {
        if (!_members.TryGetValue(name, out var value))
        {
            _errors.Add(name, $"'{name}' is required.");
            return null;
        }

        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number))
        {
            return number;
        }

        _errors.Add(name, value.ValueKind == JsonValueKind.Number
            ? $"'{name}' must be a whole number between {int.MinValue.ToString(CultureInfo.InvariantCulture)} and {int.MaxValue.ToString(CultureInfo.InvariantCulture)}."
            : $"'{name}' must be a number, not {KindOf(value)}.");
        return null;
    }

    /// <summary>An array of strings (each element an error of its own when it is not one), or null (with an error) when absent or not an array.</summary>
    public IReadOnlyList<string?>? StringArray(string name)
    {
        if (!_members.TryGetValue(name, out var value) || value.ValueKind != JsonValueKind.Array)
        {
            _errors.Add(name, value.ValueKind == JsonValueKind.Undefined
                ? $"'{name}' is required: a non-empty array of strings."
                : $"'{name}' must be a non-empty array of strings, not {KindOf(value)}.");
            return null;
        }

        var items = new List<string?>(value.GetArrayLength());
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            items.Add(StringOf(item, $"{name}[{index.ToString(CultureInfo.InvariantCulture)}]", _errors));
            index++;
        }

        return items;
    }

    private static string? StringOf(JsonElement value, string field, InputErrors errors)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            errors.Add(field, $"'{field}' must be a string, not {KindOf(value)}.");
            return null;
        }

        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            // An escaped lone surrogate (\ud800) cannot become text.
            errors.Add(field, $"'{field}' contains an escaped unpaired surrogate; send valid Unicode text.");
            return null;
        }
    }

    private static string? NameOf(JsonProperty member)
    {
        try
        {
            return member.Name;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>"a number", "an array", …: the JSON type of <paramref name="value"/>.</summary>
    public static string KindOf(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "missing",
    };
}
