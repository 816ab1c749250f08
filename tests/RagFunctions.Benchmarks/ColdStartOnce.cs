using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using RagFunctions.Core.Pipeline;

namespace RagFunctions.Benchmarks;

/// <summary>
/// The cold start of <see cref="ColdStartBenchmarks"/> once, in this process, from whatever folder it was published to:
/// composition + index build, then the first extractive answer. BenchmarkDotNet builds its own (JIT) copy of the
/// benchmarks, so it cannot compare a ReadyToRun publish with a JIT one; this runs from each publish output instead.
/// Prints one line: compose+index ms, first answer ms, ms since the process started (runtime start-up included).
/// </summary>
public static class ColdStartOnce
{
    public static async Task RunAsync()
    {
        var watch = Stopwatch.StartNew();
        await using var services = BenchComposition.Build();
        var pipeline = services.GetRequiredService<RagPipeline>();
        var composed = watch.Elapsed.TotalMilliseconds;
        var answer = await pipeline.AnswerAsync(QueryOrigin.Http, "default", _ => Task.FromResult(new RagQuery(BenchComposition.Questions[0], null)), CancellationToken.None);
        var answered = watch.Elapsed.TotalMilliseconds - composed;
        var sinceStart = (DateTime.Now - Process.GetCurrentProcess().StartTime).TotalMilliseconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"compose_index_ms={composed:F1} first_answer_ms={answered:F1} since_process_start_ms={sinceStart:F1} sources={answer.Sources.Count}"));
    }
}
