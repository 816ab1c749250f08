using System.Globalization;
using RagFunctions.IntegrationTests.Infrastructure;
using RagFunctions.ScaleRun;

// scripts/scale [--pods 50,200,500] [--lifetimes 2000] [--lifetime-seconds 10] [--push-seconds 5] [--out DIR] [--plot FILE]
var options = ScaleOptions.Parse(args);
if (options is null)
{
    Console.Error.WriteLine("usage: scale [--pods 50,200,500] [--lifetimes 2000] [--lifetime-seconds 10] [--push-seconds 5] [--out DIR] [--plot FILE.png]");
    Console.Error.WriteLine($"  --lifetimes must be at least {ScaleOptions.LifetimesPerLivePod}× the largest --pods, or that step never has its pods live at once.");
    return 2;
}

Console.WriteLine($"scale: {string.Join(", ", options.Pods)} live pods, {options.Lifetimes} lifetimes each of {options.LifetimeSeconds} s (a push every {options.PushSeconds} s); load average {LoadAverage.Read()}");
var azurite = new AzuriteFixture();
await azurite.InitializeAsync();
var results = new List<ScaleResult>();
try
{
    foreach (var pods in options.Pods)
    {
        try
        {
            var result = await ScaleStep.RunAsync(azurite, pods, options);
            results.Add(result);
            Console.WriteLine(result.Describe());
        }
        catch (InvalidOperationException ex)
        {
            // A pod whose pushes are refused or time out for 10 s: this Pushgateway no longer keeps up; larger steps would not either.
            Console.WriteLine($"{pods} pods: stopped, the Pushgateway no longer keeps up: {ex.Message}; load average {LoadAverage.Read()}");
            break;
        }
    }
}
finally
{
    await azurite.DisposeAsync();
}

Directory.CreateDirectory(options.OutputFolder);
var table = ScaleResult.MarkdownTable(results);
await File.WriteAllTextAsync(Path.Combine(options.OutputFolder, "scale.md"), table);
if (results.Count > 1)
{
    ScalePlot.Save(results, options.PlotFile);
}
Console.WriteLine(table);
Console.WriteLine($"scale: table in {Path.Combine(options.OutputFolder, "scale.md")}, plot in {options.PlotFile}; load average {LoadAverage.Read()}");
return results.Count == options.Pods.Length && results.All(r => r.Mismatches == 0 && r.GroupsLeft == 0) ? 0 : 1;

namespace RagFunctions.ScaleRun
{
    /// <summary>Command-line options of the run; the defaults are the app's real 5 s push interval and the README's steps.</summary>
    internal sealed record ScaleOptions(int[] Pods, int Lifetimes, double LifetimeSeconds, double PushSeconds, string OutputFolder, string PlotFile)
    {
        /// <summary>A step lives each of its pods about this many times over, so its live count is held, not just reached once.</summary>
        public const int LifetimesPerLivePod = 3;

        public static ScaleOptions? Parse(string[] args)
        {
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < args.Length; i += 2)
            {
                if (i + 1 >= args.Length || !args[i].StartsWith("--", StringComparison.Ordinal))
                {
                    return null;
                }

                values[args[i][2..]] = args[i + 1];
            }

            var known = new[] { "pods", "lifetimes", "lifetime-seconds", "push-seconds", "out", "plot" };
            if (values.Keys.Any(k => !known.Contains(k)))
            {
                return null;
            }

            var output = values.GetValueOrDefault("out") ?? Path.Combine(Prerequisites.RepoRoot, "scale-results");
            var options = new ScaleOptions(
                [.. (values.GetValueOrDefault("pods") ?? "50,200,500").Split(',').Select(p => int.Parse(p, CultureInfo.InvariantCulture))],
                int.Parse(values.GetValueOrDefault("lifetimes") ?? "2000", CultureInfo.InvariantCulture),
                double.Parse(values.GetValueOrDefault("lifetime-seconds") ?? "10", CultureInfo.InvariantCulture),
                double.Parse(values.GetValueOrDefault("push-seconds") ?? "5", CultureInfo.InvariantCulture),
                output,
                values.GetValueOrDefault("plot") ?? Path.Combine(output, "scale.png"));
            return options.Lifetimes >= LifetimesPerLivePod * options.Pods.Max() ? options : null;
        }
    }

    internal static class LoadAverage
    {
        public static string Read() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
    }
}
