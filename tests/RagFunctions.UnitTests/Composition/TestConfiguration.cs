using Microsoft.Extensions.Configuration;

namespace RagFunctions.UnitTests.Composition;

/// <summary>An in-memory configuration: a composition's required settings, with a test's overrides on top.</summary>
internal static class TestConfiguration
{
    public static IConfiguration From(IReadOnlyDictionary<string, string?> required, IEnumerable<(string Key, string Value)> overrides)
    {
        var settings = new Dictionary<string, string?>(required);
        foreach (var (key, value) in overrides)
        {
            settings[key] = value;
        }

        return new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
    }
}
