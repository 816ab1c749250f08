using RagFunctions.Core.Metrics;

namespace RagFunctions.Core.Pipeline;

/// <summary>Where a query came from: a domain fact the trigger states, not a metrics label.</summary>
public enum QueryOrigin
{
    /// <summary>POST /api/query, or a batch submitted with POST /api/batches.</summary>
    Http,

    /// <summary>A batch question delivered by the rag-queries queue (or its poison queue).</summary>
    Queue,
}

/// <summary>Told each query's final outcome, once. <see cref="RagMetrics"/> implements it as the one writer of rag_requests_total.</summary>
public interface IQueryOutcomeObserver
{
    /// <param name="tenant">The tenant the query counts for (<see cref="Budgets.TenantBudgets"/>).</param>
    void QueryCompleted(QueryOrigin origin, QueryOutcome outcome, string tenant);
}
