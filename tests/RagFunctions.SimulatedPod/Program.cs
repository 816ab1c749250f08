using System.Globalization;
using System.Runtime.InteropServices;
using RagFunctions.Core.Metrics.Push;
using RagFunctions.SimulatedPod;
using RagFunctions.TestHost;

// Usage: RagFunctions.SimulatedPod --pod-name <name> --storage <connection string> --host-json <path> --corpus <path>
//        [--pushgateway <url>] [--bedrock <stand-in url>] [--lease-seconds <s>] [--visibility-seconds <s>]
// Any Rag__* environment variable is passed to the app as its setting (Rag__Push__IntervalSeconds → Rag:Push:IntervalSeconds).
var options = PodOptions.Parse(args);
Environment.SetEnvironmentVariable("HOSTNAME", options.PodName);

using var stopping = new CancellationTokenSource();
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    stopping.Cancel();
});

await using var host = await InProcessFunctionHost.StartAsync(options.AppSettings());
var pusher = (MetricsPusher)host.Services.GetService(typeof(MetricsPusher))!;
var pump = new QueuePump(host, options.Storage, options.QueueSettings());
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"pod {options.PodName} ready instance={pusher.Instance} pid={Environment.ProcessId}"));

await pump.RunAsync(stopping.Token);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"pod {options.PodName} stopping processed={pump.Processed} failed={pump.Failed} poisoned={pump.Poisoned} storageErrors={pump.StorageErrors}"));
