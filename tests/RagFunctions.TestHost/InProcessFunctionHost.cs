using System.Text;
using Azure.Storage.Queues.Models;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagFunctions.App;
using RagFunctions.App.Functions;
using RagFunctions.App.Middleware;

namespace RagFunctions.TestHost;

/// <summary>
/// Invokes the app's function classes through the real composition root (<see cref="RagFunctionsComposition.AddRagFunctions"/>)
/// and the real middleware list (<see cref="RagMiddleware.Steps"/>), as the worker would, minus gRPC and the Functions host.
/// </summary>
public sealed class InProcessFunctionHost : IAsyncDisposable
{
    // The key under which the ASP.NET Core integration keeps the HttpContext (FunctionContext.GetHttpContext reads it).
    private const string HttpContextKey = "HttpRequestContext";

    private readonly ServiceProvider _services;
    private readonly IReadOnlyList<IHostedService> _hosted;

    private InProcessFunctionHost(ServiceProvider services)
    {
        _services = services;
        _hosted = services.GetServices<IHostedService>().ToList();
    }

    public IServiceProvider Services => _services;

    /// <summary>
    /// Composes the app from <paramref name="settings"/> (same keys as local.settings.json), validates options, starts hosted services.
    /// <paramref name="overrides"/> runs after the composition root, for test doubles of what the app cannot configure (a model stand-in).
    /// </summary>
    public static async Task<InProcessFunctionHost> StartAsync(
        IReadOnlyDictionary<string, string?> settings, Action<ILoggingBuilder>? logging = null, Action<IServiceCollection>? overrides = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging(builder => logging?.Invoke(builder));
        services.AddRagFunctions(configuration);
        overrides?.Invoke(services);
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        provider.GetService<IStartupValidator>()?.Validate();
        var host = new InProcessFunctionHost(provider);
        foreach (var hosted in host._hosted)
        {
            await hosted.StartAsync(CancellationToken.None);
        }

        return host;
    }

    /// <summary>Sends an HTTP request to the function whose route matches, as the host's router would.</summary>
    public Task<HttpCallResult> SendAsync(string method, string pathAndQuery, string? body = null, string? contentType = "application/json", CancellationToken cancellationToken = default) =>
        SendAsync(method, pathAndQuery, body is null ? null : Encoding.UTF8.GetBytes(body), contentType, cancellationToken);

    /// <summary>Same, with the body as raw bytes (bodies that are not valid UTF-8).</summary>
    public Task<HttpCallResult> SendAsync(string method, string pathAndQuery, byte[]? body, string? contentType, CancellationToken cancellationToken = default) =>
        SendAsync(method, pathAndQuery, body, contentType, new Dictionary<string, string>(), cancellationToken);

    /// <summary>Same, with request headers (e.g. Content-Encoding).</summary>
    public async Task<HttpCallResult> SendAsync(
        string method, string pathAndQuery, byte[]? body, string? contentType, IReadOnlyDictionary<string, string> requestHeaders, CancellationToken cancellationToken = default)
    {
        var (path, query) = SplitQuery(pathAndQuery);
        var route = HttpRoutes.Match(method, path);
        if (route is null)
        {
            return new HttpCallResult(StatusCodes.Status404NotFound, null, string.Empty, new Dictionary<string, string>());
        }

        await using var scope = _services.CreateAsyncScope();
        var http = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        http.Request.Method = method;
        http.Request.Path = path;
        http.Request.QueryString = new QueryString(query);
        if (body is not null)
        {
            http.Request.Body = new MemoryStream(body);
            http.Request.ContentLength = body.Length;
        }

        http.Request.ContentType = contentType;
        foreach (var (name, value) in requestHeaders)
        {
            http.Request.Headers[name] = value;
        }

        http.Response.Body = new MemoryStream();

        var context = new TestFunctionContext(new TestFunctionDefinition(route.Function, "httpTrigger"), scope.ServiceProvider, cancellationToken);
        context.Items[HttpContextKey] = http;
        IResult? result = null;
        await RunAsync(context, async ctx => result = await route.Invoke(scope.ServiceProvider, http.Request, ctx.CancellationToken));

        // The worker's HTTP proxy executes the function's IResult after the middleware has run.
        if (result is not null)
        {
            await result.ExecuteAsync(http);
        }

        http.Response.Body.Position = 0;
        var text = await new StreamReader(http.Response.Body).ReadToEndAsync(cancellationToken);
        var headers = http.Response.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        return new HttpCallResult(http.Response.StatusCode, http.Response.ContentType, text, headers);
    }

    /// <summary>Invokes a queue-triggered function with <paramref name="message"/>; an exception means the host would not complete it.</summary>
    public async Task InvokeQueueAsync(string function, QueueMessage message, CancellationToken cancellationToken = default)
    {
        await using var scope = _services.CreateAsyncScope();
        var context = new TestFunctionContext(new TestFunctionDefinition(function, "queueTrigger"), scope.ServiceProvider, cancellationToken);
        await RunAsync(context, ctx => function switch
        {
            nameof(ProcessQueryMessage) => ActivatorUtilities.CreateInstance<ProcessQueryMessage>(scope.ServiceProvider).Run(message, ctx.CancellationToken),
            nameof(RecordPoisonMessage) => ActivatorUtilities.CreateInstance<RecordPoisonMessage>(scope.ServiceProvider).Run(message, ctx.CancellationToken),
            _ => throw new ArgumentException($"No queue function named {function}.", nameof(function)),
        });
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var hosted in _hosted.Reverse())
        {
            await hosted.StopAsync(CancellationToken.None);
        }

        await _services.DisposeAsync();
    }

    private Task RunAsync(FunctionContext context, FunctionExecutionDelegate function)
    {
        var next = function;
        for (var i = RagMiddleware.Steps.Count - 1; i >= 0; i--)
        {
            var step = RagMiddleware.Steps[i];
            var inner = next;
            var middleware = (IFunctionsWorkerMiddleware)_services.GetRequiredService(step.Type);
            next = ctx => step.AppliesTo(ctx) ? middleware.Invoke(ctx, inner) : inner(ctx);
        }

        return next(context);
    }

    private static (string Path, string Query) SplitQuery(string pathAndQuery)
    {
        var q = pathAndQuery.IndexOf('?', StringComparison.Ordinal);
        return q < 0 ? (pathAndQuery, string.Empty) : (pathAndQuery[..q], pathAndQuery[q..]);
    }
}

/// <summary>Status, content type, body and headers of one in-process HTTP call.</summary>
public sealed record HttpCallResult(int Status, string? ContentType, string Body, IReadOnlyDictionary<string, string> Headers);
