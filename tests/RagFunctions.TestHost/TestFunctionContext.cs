using Microsoft.Azure.Functions.Worker;

namespace RagFunctions.TestHost;

/// <summary>A FunctionContext for in-process invocations, as the worker's own tests build one.</summary>
internal sealed class TestFunctionContext(FunctionDefinition definition, IServiceProvider services, CancellationToken cancellationToken) : FunctionContext
{
    public override string InvocationId { get; } = Guid.NewGuid().ToString();

    public override string FunctionId => definition.Id;

    public override TraceContext TraceContext => throw new NotSupportedException();

    public override BindingContext BindingContext => throw new NotSupportedException();

    public override RetryContext RetryContext => throw new NotSupportedException();

    public override IServiceProvider InstanceServices { get; set; } = services;

    public override FunctionDefinition FunctionDefinition => definition;

    public override IDictionary<object, object> Items { get; set; } = new Dictionary<object, object>();

    public override IInvocationFeatures Features => throw new NotSupportedException();

    public override CancellationToken CancellationToken => cancellationToken;
}

/// <summary>Name and trigger of one function, as functions.metadata describes it.</summary>
internal sealed class TestFunctionDefinition(string name, string triggerType) : FunctionDefinition
{
    public override System.Collections.Immutable.ImmutableArray<FunctionParameter> Parameters => [];

    public override string PathToAssembly => typeof(App.RagFunctionsComposition).Assembly.Location;

    public override string EntryPoint => name;

    public override string Id => name;

    public override string Name => name;

    public override System.Collections.Immutable.IImmutableDictionary<string, BindingMetadata> InputBindings { get; } =
        System.Collections.Immutable.ImmutableDictionary<string, BindingMetadata>.Empty.Add("trigger", new TriggerBinding(triggerType));

    public override System.Collections.Immutable.IImmutableDictionary<string, BindingMetadata> OutputBindings { get; } =
        System.Collections.Immutable.ImmutableDictionary<string, BindingMetadata>.Empty;

    private sealed class TriggerBinding(string type) : BindingMetadata
    {
        public override string Name => "trigger";

        public override string Type => type;

        public override BindingDirection Direction => BindingDirection.In;
    }
}
