using System.Text.Json;

namespace RagFunctions.IntegrationTests.Infrastructure;

/// <summary>The app's build output, where the Functions host finds functions.metadata (written by the worker SDK at build).</summary>
public static class AppBuildOutput
{
    public static string Folder { get; } = Path.Combine(
        Prerequisites.RepoRoot, "functions", "RagFunctions.App", "bin",
        typeof(AppBuildOutput).Assembly.Location.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug",
        "net10.0");

    /// <summary>Every function the host will index, as the SDK declared it.</summary>
    public static IReadOnlyList<JsonElement> Functions()
    {
        var path = Path.Combine(Folder, "functions.metadata");
        Assert.True(File.Exists(path), $"functions.metadata missing in {Folder}: build the app (dotnet build RagFunctions.sln).");
        return [.. JsonDocument.Parse(File.ReadAllText(path)).RootElement.EnumerateArray()];
    }

    public static string Name(JsonElement function) => function.GetProperty("name").GetString()!;

    /// <summary>The function's trigger binding (httpTrigger, queueTrigger, ...).</summary>
    public static JsonElement Trigger(JsonElement function) =>
        function.GetProperty("bindings").EnumerateArray().Single(b => b.GetProperty("type").GetString()!.EndsWith("Trigger", StringComparison.Ordinal));

    /// <summary>The HTTP functions with their auth level ("Function", "Anonymous", ...) and route.</summary>
    public static IReadOnlyList<(string Name, string AuthLevel, string Route)> HttpFunctions() =>
        [.. Functions().Select(f => (Function: f, Trigger: Trigger(f)))
            .Where(x => x.Trigger.GetProperty("type").GetString() == "httpTrigger")
            .Select(x => (Name(x.Function), x.Trigger.GetProperty("authLevel").GetString()!, x.Trigger.GetProperty("route").GetString()!))];
}
