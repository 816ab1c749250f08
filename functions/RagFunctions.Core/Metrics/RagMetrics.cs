using System.Globalization;
using System.Collections.Concurrent;
using Prometheus;
using RagFunctions.Core.Budgets;
using RagFunctions.Core.Generation;
using RagFunctions.Core.Pipeline;

namespace RagFunctions.Core.Metrics;

/// <summary>
/// Every rag_ metric, defined once, in one registry that the pusher serializes.
/// Label children for configured values are created up front, so the hot path never allocates a label array. A push
/// carries the series this process has touched, plus the fleet set, exposed at 0 from the start:
/// every <c>rag_requests_total</c> trigger × outcome (the per-pod fleet view, and the only pod series Prometheus keeps
/// besides the push times, so a pod's first request is never a first sample), and one zero series of each rare-event
/// family a panel or alert reads as a rate (push failures, poison messages, no-context queries, budget rejections of
/// <c>default</c> per trigger, and per model the
/// throttling errors and unpriced tokens), so those show 0, not "no data", and exist under job="rag-ledger" before the
/// first event. Every other child (cost, tokens, histograms, other error types, function meters) is suppressed until
/// its first update (prometheus-net's SuppressInitialValue; Inc/Observe publish it). The ledger counts a series that
/// appears mid-life from 0 and holds a new total at 0 for two scrapes, so nothing is lost by not pushing zeros.
/// Cost, tokens, requests and budget rejections carry a <c>tenant</c> label whose values are the configured tenants
/// (<see cref="TenantBudgets.Names"/>, at most <see cref="BudgetOptions.MaxTenants"/> plus <c>default</c>); any other
/// value counts as <c>default</c>, so a label value never comes from a request. Only <c>default</c>'s request series are
/// in the fleet set: another tenant's appear with its first query.
/// </summary>
public sealed class RagMetrics : IQueryOutcomeObserver
{
    /// <summary>Seed buckets 0.1…20 plus finer ones for sub-100 ms stages.</summary>
    public static readonly double[] DurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 2, 5, 10, 20];
    public static readonly double[] QueryCostBuckets = [1e-6, 1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 0.1, 0.5, 1];
    public static readonly double[] RetrievedDocumentBuckets = [0, 1, 2, 3, 4, 5, 8, 13, 20];

    private readonly Counter _cost;
    private readonly Counter _tokens;
    private readonly Counter _requests;
    private readonly Counter _llmErrors;
    private readonly Histogram _queryCost;
    private readonly Counter _unpricedTokens;
    private readonly Counter _functionInvocations;
    private readonly Histogram _functionDuration;
    private readonly Counter.Child[] _requestChildren;
    private readonly Counter.Child[] _rejectionChildren;
    private readonly string[] _tenants;
    private readonly Dictionary<string, int> _tenantIndex;
    private readonly int _defaultTenant;
    private readonly ConcurrentDictionary<(string Model, string Tenant), ModelMeters> _models = new();
    private readonly ConcurrentDictionary<(string Function, string Trigger), FunctionMeters> _functions = new();

    /// <param name="tenants">The <c>tenant</c> label values (<see cref="TenantBudgets.Names"/>); must include <c>default</c>.</param>
    public RagMetrics(string environment, IEnumerable<string> modelIds, IReadOnlyList<string> tenants, CollectorRegistry? registry = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(environment);
        Environment = environment;
        Registry = registry ?? Prometheus.Metrics.NewCustomRegistry();
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);

        _cost = factory.CreateCounter("rag_cost_dollars_total", "Total estimated cost of the RAG pipeline in USD.",
            new CounterConfiguration { LabelNames = ["model", "tenant", "environment"], SuppressInitialValue = true });
        _tokens = factory.CreateCounter("rag_token_usage_total", "Total token usage by model and token type.",
            new CounterConfiguration { LabelNames = ["model", "type", "tenant", "environment"], SuppressInitialValue = true });
        var duration = factory.CreateHistogram("rag_request_duration_seconds", "Time spent per RAG stage.",
            new HistogramConfiguration { LabelNames = ["stage", "environment"], Buckets = DurationBuckets, SuppressInitialValue = true });
        _requests = factory.CreateCounter("rag_requests_total", "RAG queries by trigger and outcome.",
            new CounterConfiguration { LabelNames = ["trigger", "outcome", "tenant", "environment"], SuppressInitialValue = true });
        _llmErrors = factory.CreateCounter("rag_llm_errors_total", "Failed model calls by model and error type.",
            new CounterConfiguration { LabelNames = ["model", "error_type", "environment"], SuppressInitialValue = true });
        _queryCost = factory.CreateHistogram("rag_query_cost_dollars", "Cost of one query in USD.",
            new HistogramConfiguration { LabelNames = ["model", "environment"], Buckets = QueryCostBuckets, SuppressInitialValue = true });
        var retrieved = factory.CreateHistogram("rag_retrieved_documents", "Passages retrieved per query.",
            new HistogramConfiguration { LabelNames = ["environment"], Buckets = RetrievedDocumentBuckets, SuppressInitialValue = true });
        var noContext = factory.CreateCounter("rag_no_context_total", "Queries whose retrieval found nothing.",
            new CounterConfiguration { LabelNames = ["environment"] });
        _unpricedTokens = factory.CreateCounter("rag_unpriced_tokens_total", "Tokens used by a model that has no price.",
            new CounterConfiguration { LabelNames = ["model", "environment"] });
        _functionInvocations = factory.CreateCounter("rag_function_invocations_total", "Function invocations by function, trigger and outcome.",
            new CounterConfiguration { LabelNames = ["function", "trigger", "outcome", "environment"], SuppressInitialValue = true });
        _functionDuration = factory.CreateHistogram("rag_function_duration_seconds", "Function invocation duration.",
            new HistogramConfiguration { LabelNames = ["function", "trigger", "environment"], Buckets = DurationBuckets, SuppressInitialValue = true });
        var poison = factory.CreateCounter("rag_poison_messages_total", "Queue messages that reached the poison queue.",
            new CounterConfiguration { LabelNames = ["environment"] });
        var rejections = factory.CreateCounter("rag_budget_rejections_total", "Queries and batch submissions refused because a hard budget is exhausted, by tenant and trigger.",
            new CounterConfiguration { LabelNames = ["tenant", "trigger", "environment"], SuppressInitialValue = true });
        var pushFailures = factory.CreateCounter("rag_metrics_push_failures_total", "Failed pushes of this process' metrics to the Pushgateway.",
            new CounterConfiguration { LabelNames = ["environment"] });

        RetrievalStage = duration.WithLabels("retrieval", environment);
        GenerationStage = duration.WithLabels("generation", environment);
        TotalStage = duration.WithLabels("total", environment);
        TotalErrorStage = duration.WithLabels("total_error", environment);
        RetrievedDocuments = retrieved.WithLabels(environment);
        NoContext = noContext.WithLabels(environment);
        PoisonMessages = poison.WithLabels(environment);
        PushFailures = pushFailures.WithLabels(environment);

        ArgumentNullException.ThrowIfNull(tenants);
        string[] names = [.. tenants];
        _tenants = names;
        _tenantIndex = names.Select((name, i) => (name, i)).ToDictionary(t => t.name, t => t.i, StringComparer.Ordinal);
        _defaultTenant = _tenantIndex.TryGetValue(BudgetOptions.DefaultTenant, out var d)
            ? d
            : throw new ArgumentException($"The tenants must include '{BudgetOptions.DefaultTenant}'.", nameof(tenants));
        var triggers = Enum.GetValues<QueryOrigin>();
        var outcomes = Enum.GetValues<QueryOutcome>();
        _requestChildren = new Counter.Child[names.Length * triggers.Length * outcomes.Length];
        _rejectionChildren = new Counter.Child[names.Length * triggers.Length];
        for (var tenant = 0; tenant < names.Length; tenant++)
        {
            foreach (var trigger in triggers)
            {
                var child = rejections.WithLabels(names[tenant], trigger.LabelValue(), environment);
                _rejectionChildren[(tenant * TriggerCount) + (int)trigger] = child;
                if (tenant == _defaultTenant)
                {
                    // One zero series per trigger, so the rejections panel shows 0 rather than "no data" before the first.
                    child.Publish();
                }
            }

            foreach (var trigger in triggers)
            {
                foreach (var outcome in outcomes)
                {
                    var child = _requests.WithLabels(trigger.LabelValue(), outcome.LabelValue(), names[tenant], environment);
                    _requestChildren[RequestIndex(tenant, trigger, outcome)] = child;
                    if (tenant == _defaultTenant)
                    {
                        // The fleet set: every trigger × outcome of the default tenant, from the start.
                        child.Publish();
                    }
                }
            }
        }

        foreach (var model in modelIds)
        {
            ForModel(model, BudgetOptions.DefaultTenant);
        }
    }

    public CollectorRegistry Registry { get; }

    public string Environment { get; }

    public Histogram.Child RetrievalStage { get; }

    public Histogram.Child GenerationStage { get; }

    public Histogram.Child TotalStage { get; }

    public Histogram.Child TotalErrorStage { get; }

    public Histogram.Child RetrievedDocuments { get; }

    public Counter.Child NoContext { get; }

    public Counter.Child PoisonMessages { get; }

    public Counter.Child PushFailures { get; }

    /// <summary>
    /// Meters of one model id for one tenant (unknown: <c>default</c>). Model ids come from configuration only, never
    /// from a request.
    /// </summary>
    public ModelMeters ForModel(string modelId, string tenant) =>
        _models.GetOrAdd((modelId, TenantLabel(tenant)), static (key, self) => new ModelMeters(self, key.Model, key.Tenant), this);

    /// <summary>Meters of one function. Function names come from the app's own [Function] attributes.</summary>
    public FunctionMeters ForFunction(string function, string trigger) =>
        _functions.GetOrAdd((function, trigger), static (key, self) => new FunctionMeters(
            self._functionInvocations.WithLabels(key.Function, key.Trigger, "success", self.Environment),
            self._functionInvocations.WithLabels(key.Function, key.Trigger, "failure", self.Environment),
            self._functionDuration.WithLabels(key.Function, key.Trigger, self.Environment)), this);

    /// <summary>The one writer of rag_requests_total: the pipeline reports each query's final outcome here, once.</summary>
    public void QueryCompleted(QueryOrigin origin, QueryOutcome outcome, string tenant) =>
        _requestChildren[RequestIndex(TenantIndex(tenant), origin, outcome)].Inc();

    /// <summary>
    /// The one writer of rag_budget_rejections_total: a query or batch submission refused (HTTP), or a queued question
    /// held back (queue), because its tenant's or the global hard limit is reached; counted once per refusal.
    /// </summary>
    public void BudgetRejected(QueryOrigin origin, string tenant) =>
        _rejectionChildren[(TenantIndex(tenant) * TriggerCount) + (int)origin].Inc();

    private static readonly int OutcomeCount = Enum.GetValues<QueryOutcome>().Length;
    private static readonly int TriggerCount = Enum.GetValues<QueryOrigin>().Length;

    private static int RequestIndex(int tenant, QueryOrigin origin, QueryOutcome outcome) =>
        (((tenant * TriggerCount) + (int)origin) * OutcomeCount) + (int)outcome;

    private int TenantIndex(string tenant) => _tenantIndex.TryGetValue(tenant, out var index) ? index : _defaultTenant;

    private string TenantLabel(string tenant) => _tenants[TenantIndex(tenant)];

    public sealed class ModelMeters
    {
        private readonly Counter.Child[] _errors;
        private readonly Lock _costLock = new();
        private decimal _costTotal;

        internal ModelMeters(RagMetrics owner, string modelId, string tenant)
        {
            ModelId = modelId;
            Tenant = tenant;
            var env = owner.Environment;
            Cost = owner._cost.WithLabels(modelId, tenant, env);
            InputTokens = owner._tokens.WithLabels(modelId, "input", tenant, env);
            OutputTokens = owner._tokens.WithLabels(modelId, "output", tenant, env);
            CacheReadTokens = owner._tokens.WithLabels(modelId, "cache_read", tenant, env);
            CacheWriteTokens = owner._tokens.WithLabels(modelId, "cache_write", tenant, env);
            QueryCost = owner._queryCost.WithLabels(modelId, env);
            UnpricedTokens = owner._unpricedTokens.WithLabels(modelId, env);
            var kinds = Enum.GetValues<LlmErrorKind>();
            _errors = new Counter.Child[kinds.Length];
            foreach (var kind in kinds)
            {
                _errors[(int)kind] = owner._llmErrors.WithLabels(modelId, kind.LabelValue(), env);
            }

            // The fleet set: the throttling panel and LLMThrottling name this error type per model.
            _errors[(int)LlmErrorKind.Throttling].Publish();
        }

        public string ModelId { get; }

        /// <summary>The tenant of the cost and token meters; errors, cost per query and unpriced tokens are per model only.</summary>
        public string Tenant { get; }

        public Counter.Child Cost { get; }

        /// <summary>
        /// Adds one query's exact cost to <see cref="Cost"/>. The counter is set to the decimal running total (parsed, so
        /// correctly rounded), never summed in binary: the value pushed reads back, as its shortest round-trip text, as the
        /// exact decimal sum of the costs (while that has at most 15 significant digits), which is what the ledger folds.
        /// </summary>
        public void AddCost(decimal usd)
        {
            // Formatted on the stack (a decimal is at most 31 characters), so metering a query still allocates nothing.
            Span<char> text = stackalloc char[32];
            lock (_costLock)
            {
                _costTotal += usd;
                _costTotal.TryFormat(text, out var length, provider: CultureInfo.InvariantCulture);
                Cost.IncTo(double.Parse(text[..length], NumberStyles.Float, CultureInfo.InvariantCulture));
            }
        }

        public Counter.Child InputTokens { get; }

        public Counter.Child OutputTokens { get; }

        public Counter.Child CacheReadTokens { get; }

        public Counter.Child CacheWriteTokens { get; }

        public Histogram.Child QueryCost { get; }

        public Counter.Child UnpricedTokens { get; }

        public void CountError(LlmErrorKind kind) => _errors[(int)kind].Inc();
    }

    public sealed record FunctionMeters(Counter.Child Succeeded, Counter.Child Failed, Histogram.Child Duration);
}
