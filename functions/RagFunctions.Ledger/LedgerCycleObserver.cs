namespace RagFunctions.Ledger;

/// <summary>
/// The points of a fold cycle between which the ledger's durable effects differ. A crash after any of them must be
/// repaired by the next cycle, which is why they are named: observers (tracing, fault injection) see each one.
/// </summary>
public enum LedgerCycleStep
{
    /// <summary>Folded in memory, nothing written.</summary>
    Folded,

    /// <summary>New state chunks written, head not yet moved: the commit did not happen.</summary>
    Staged,

    /// <summary>State committed, not yet served on /metrics.</summary>
    Committed,

    /// <summary>Committed state served on /metrics, stale groups not yet deleted.</summary>
    Published,

    /// <summary>The first stale group of a cycle deleted, any others not.</summary>
    FirstGroupRetired,
}

/// <summary>Sees each step of each cycle, synchronously, in order. The ledger itself registers none.</summary>
public interface ILedgerCycleObserver
{
    /// <param name="step">The step just completed.</param>
    /// <param name="foldedNewData">Whether this cycle folded anything new (a cycle without new data has no durable effect to repair).</param>
    void StepCompleted(LedgerCycleStep step, bool foldedNewData);
}
