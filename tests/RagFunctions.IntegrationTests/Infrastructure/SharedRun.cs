using Xunit.Abstractions;

namespace RagFunctions.IntegrationTests.Infrastructure;

/// <summary>A long run of real processes that several facts assert on, each one invariant, so none hides another.</summary>
public interface ISharedRun
{
    /// <summary>What the run did and measured, in order, for every fact's output.</summary>
    IReadOnlyList<string> Log { get; }
}

/// <summary>The facts over one <see cref="ISharedRun"/>: each fact's output starts with the run's log.</summary>
public abstract class SharedRunFacts<TRun>
    where TRun : ISharedRun
{
    protected SharedRunFacts(TRun run, ITestOutputHelper output)
    {
        Run = run;
        foreach (var line in run.Log)
        {
            output.WriteLine(line);
        }
    }

    protected TRun Run { get; }
}
