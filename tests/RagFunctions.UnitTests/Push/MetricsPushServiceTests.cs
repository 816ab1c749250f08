using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using RagFunctions.Core.Metrics;
using RagFunctions.Core.Metrics.Push;

namespace RagFunctions.UnitTests.Push;

public sealed class MetricsPushServiceTests
{
    [Fact]
    public async Task PushesAtStartPeriodicallyAndAtShutdown()
    {
        var handler = new RecordingHandler();
        var options = Options.Create(new PushOptions { Enabled = true, Url = "http://pg.test:9091", Instance = "pod-x", IntervalSeconds = 5 });
        var pusher = new MetricsPusher(new RagMetrics("test", [], ["default"]), new HttpClient(handler), options, NullLogger<MetricsPusher>.Instance);
        var time = new FakeTimeProvider();
        using var service = new MetricsPushService(pusher, options, NullLogger<MetricsPushService>.Instance, time);

        await service.StartAsync(CancellationToken.None);
        Assert.Single(handler.Requests);

        time.Advance(TimeSpan.FromSeconds(5));
        await WaitForAsync(() => handler.Requests.Count >= 2);
        time.Advance(TimeSpan.FromSeconds(5));
        await WaitForAsync(() => handler.Requests.Count >= 3);

        await service.StopAsync(CancellationToken.None);
        Assert.Equal(4, handler.Requests.Count);
    }

    [Fact]
    public void AddMetricsPusherFailsAtStartGivenEnabledWithoutUrl()
    {
        using var provider = Build(new() { ["Rag:Push:Enabled"] = "true" });

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<PushOptions>>().Value);
        Assert.Contains("Rag:Push:Url", error.Message);
    }

    [Fact]
    public void AddMetricsPusherRegistersThePusherAndTheHostedService()
    {
        using var provider = Build(new()
        {
            ["Rag:Push:Enabled"] = "true",
            ["Rag:Push:Url"] = "http://pg:9091",
            ["Rag:Push:Job"] = "rag-x",
        });

        var pusher = provider.GetRequiredService<MetricsPusher>();
        Assert.True(pusher.IsEnabled);
        Assert.Equal("rag-x", pusher.Job);
        Assert.Contains(provider.GetServices<IHostedService>(), s => s is MetricsPushService);
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddLogging();
        services.AddSingleton(new RagMetrics("test", [], ["default"]));
        services.AddMetricsPusher();
        return services.BuildServiceProvider();
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (var i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition());
    }
}
