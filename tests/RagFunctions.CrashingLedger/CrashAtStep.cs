using System.Diagnostics;
using RagFunctions.Ledger;

namespace RagFunctions.CrashingLedger;

/// <summary>SIGKILLs the process once the first cycle that folded new data completes <paramref name="step"/>: no flush, no graceful stop.</summary>
public sealed class CrashAtStep(LedgerCycleStep step) : ILedgerCycleObserver
{
    /// <summary>The line the fault tests look for in the process output to tell an injected crash from any other exit.</summary>
    public static string Marker(LedgerCycleStep step) => $"Crash injected at {step}";

    public void StepCompleted(LedgerCycleStep completed, bool foldedNewData)
    {
        if (foldedNewData && completed == step)
        {
            // Written synchronously: the console logger is asynchronous and would lose the line to the kill.
            Console.Error.WriteLine(Marker(step));
            Console.Error.Flush();
            using var self = Process.GetCurrentProcess();
            self.Kill();
        }
    }
}
