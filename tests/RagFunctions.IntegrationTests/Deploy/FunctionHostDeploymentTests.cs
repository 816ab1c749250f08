using System.Text.Json.Nodes;
using RagFunctions.Core.Generation.Bedrock;
using RagFunctions.Core.Metrics.Push;
using RagFunctions.IntegrationTests.Infrastructure;

namespace RagFunctions.IntegrationTests.Deploy;

/// <summary>How the rendered query and batch Deployments run the Functions host: keys, replicas, drain, probes.</summary>
public sealed class FunctionHostDeploymentTests
{
    public static TheoryData<string> Kustomizations => new() { "keda/base", "keda/overlays/dev", "keda/overlays/prod-example" };

    private const string HostBinary = "/azure-functions-host/Microsoft.Azure.WebJobs.Script.WebHost";

    // Where the host's KubernetesSecretsRepository reads keys when AzureWebJobsKubernetesSecretName is unset.
    private const string KeysMountPath = "/run/secrets/functions-keys";

    private static readonly string KeysTemplate = DeployPaths.Repo("keda", "base", "secrets", "function-keys.env.example");

    /// <summary>The Deployments whose container runs the Functions host (query and batch; the ledger runs dotnet).</summary>
    private static List<Manifest> FunctionHosts(IReadOnlyList<Manifest> manifests)
    {
        var hosts = manifests.Where(m => m.Kind == "Deployment"
            && Kustomize.Containers(m).Single()["command"]?[0]?.GetValue<string>() == HostBinary).ToList();
        Assert.Equal(["rag-batch", "rag-query"], hosts.Select(d => d.Name).Order());
        return hosts;
    }

    private static JsonObject Container(Manifest d) => Kustomize.Containers(d).Single();

    private static IEnumerable<string> EnvKeys(string envFile) =>
        File.ReadAllLines(envFile).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).Select(l => l[..l.IndexOf('=', StringComparison.Ordinal)]);

    [Fact]
    public void KeySecretTemplateHoldsTheHostKeysAndOneForEveryKeyedHttpFunction()
    {
        var keyed = AppBuildOutput.HttpFunctions().Where(f => f.AuthLevel == "Function").ToList();
        Assert.NotEmpty(keyed);
        // KubernetesSecretsRepository: host.master, host.function.<name>, host.systemKey.<name>, and
        // functions.<function name, lower-cased by the host>.<name>.
        var expected = new[] { "host.master", "host.function.default", "host.systemKey.default" }
            .Concat(keyed.Select(f => $"functions.{f.Name.ToLowerInvariant()}.default"));

        Assert.Equal(expected.Order(), EnvKeys(KeysTemplate).Order());
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public void FunctionHostsReadTheirKeysFromTheMountedSecretReadOnly(string dir)
    {
        var manifests = Kustomize.Build(dir);
        var templateKeys = EnvKeys(KeysTemplate).Order().ToList();
        foreach (var d in FunctionHosts(manifests))
        {
            var settings = ProcessSettings.Of(manifests, d);
            Assert.True(settings.GetValueOrDefault("AzureWebJobsSecretStorageType") == "kubernetes", $"{d}: AzureWebJobsSecretStorageType must be kubernetes");
            // With a secret name set the host ignores the mount and calls the Kubernetes API (the pods have no token).
            Assert.False(settings.ContainsKey("AzureWebJobsKubernetesSecretName"), $"{d}: AzureWebJobsKubernetesSecretName makes the host ignore the mount");

            var mount = (Container(d)["volumeMounts"]?.AsArray() ?? []).SingleOrDefault(v => v!.Str("mountPath") == KeysMountPath);
            Assert.True(mount is not null, $"{d}: nothing mounted at {KeysMountPath}");
            Assert.True(mount!["readOnly"]?.GetValue<bool>() == true, $"{d}: mount {KeysMountPath} read-only");
            var volume = d.Body.Get("spec.template.spec.volumes")!.AsArray().Single(v => v!.Str("name") == mount.Str("name"))!;
            var secretName = volume.Get("secret.secretName")?.GetValue<string>();
            var secret = manifests.SingleOrDefault(m => m.Kind == "Secret" && m.Name == secretName && m.Namespace == d.Namespace);
            Assert.True(secret is not null, $"{d}: volume {mount.Str("name")} is not the rendered key Secret");
            Assert.Equal(templateKeys, secret!.Body["data"]!.AsObject().Select(kv => kv.Key).Order());
        }
    }

    [Fact]
    public async Task FunctionKeysScriptFillsEveryTemplateKeyWithAFreshKeyAndKeepsThemOnRerun()
    {
        var folder = Directory.CreateTempSubdirectory("rag-keys-").FullName;
        try
        {
            File.Copy(KeysTemplate, Path.Combine(folder, "function-keys.env.example"));
            var script = DeployPaths.Repo("scripts", "function-keys");
            var first = await ProcessRunner.RunAsync(script, [folder], TimeSpan.FromMinutes(1));
            Assert.True(first.ExitCode == 0, first.Output);

            var envFile = Path.Combine(folder, "function-keys.env");
            var keys = File.ReadAllLines(envFile).Where(l => l.Contains('=', StringComparison.Ordinal) && !l.StartsWith('#'))
                .Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
            Assert.Equal(EnvKeys(KeysTemplate).Order(), keys.Keys.Order());
            Assert.All(keys.Values, v => Assert.Matches("^[A-Za-z0-9_-]{40,}$", v)); // URL-safe, so ?code= works too
            Assert.Equal(keys.Count, keys.Values.Distinct().Count());
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(envFile));
            }

            var second = await ProcessRunner.RunAsync(script, [folder], TimeSpan.FromMinutes(1));
            Assert.True(second.ExitCode == 0, second.Output);
            Assert.Equal(File.ReadAllText(envFile), string.Join('\n', keys.Select(kv => $"{kv.Key}={kv.Value}")) + "\n");
        }
        finally
        {
            TempFolder.TryDelete(folder);
        }
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public void DeploymentsThatKedaScalesLeaveReplicasUnset(string dir)
    {
        var manifests = Kustomize.Build(dir);
        var scaled = manifests.Where(m => m.Kind == "ScaledObject").Select(so => so.Body.Str("spec.scaleTargetRef.name")).ToList();
        Assert.NotEmpty(scaled);
        foreach (var d in manifests.Where(m => m.Kind == "Deployment" && scaled.Contains(m.Name)))
        {
            // A replicas field would scale live pods back to it on every apply, mid-request.
            Assert.True(d.Body.Get("spec.replicas") is null, $"{d}: KEDA owns the replica count; spec.replicas must be omitted");
        }
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public void FunctionHostsDrainAndTheGracePeriodCoversTheLongestModelCallAndTheFinalPush(string dir)
    {
        // The host gives the worker this long after WorkerTerminate; the final push runs inside it.
        const double WorkerStopSeconds = 5;
        var manifests = Kustomize.Build(dir);
        foreach (var d in FunctionHosts(manifests))
        {
            var settings = ProcessSettings.Of(manifests, d);
            Assert.True(settings.GetValueOrDefault("FUNCTIONS_ENABLE_DRAIN_ON_APP_STOPPING") == "true", $"{d}: set FUNCTIONS_ENABLE_DRAIN_ON_APP_STOPPING=true");

            var bedrock = ProcessSettings.Bind<BedrockOptions>(settings, (services, _) => services.AddBedrockChatClient());
            var push = ProcessSettings.Bind<PushOptions>(settings, (services, _) => services.AddMetricsPusher());
            var attempts = bedrock.MaxRetries + 1;
            // Each wait between attempts is at most the Retry-After cap or the exponential backoff step (jitter aside).
            var waits = Enumerable.Range(0, bedrock.MaxRetries)
                .Sum(n => Math.Max(BedrockServiceCollectionExtensions.MaxRetryAfter.TotalSeconds, bedrock.RetryBaseDelayMilliseconds / 1000.0 * Math.Pow(2, n)));
            var needed = (attempts * bedrock.TimeoutSeconds) + waits + WorkerStopSeconds + (push.ShutdownTimeoutMilliseconds / 1000.0);

            var grace = d.Body.Get("spec.template.spec.terminationGracePeriodSeconds")?.GetValue<long>() ?? 30;
            Assert.True(grace >= needed,
                $"{d}: terminationGracePeriodSeconds {grace} < {needed} s = {attempts} attempts × {bedrock.TimeoutSeconds} s + {waits} s of retry waits + worker stop {WorkerStopSeconds} s + final push {push.ShutdownTimeoutMilliseconds} ms");
        }
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public void ReadinessAsksTheAnonymousHealthFunctionAndLivenessTheHostPing(string dir)
    {
        var health = Assert.Single(AppBuildOutput.HttpFunctions(), f => f.AuthLevel == "Anonymous");
        foreach (var d in FunctionHosts(Kustomize.Build(dir)))
        {
            var c = Container(d);
            Assert.Equal($"/api/{health.Route}", c.Get("readinessProbe")?.Get("httpGet")?.Get("path")?.GetValue<string>());
            Assert.Equal("/admin/host/ping", c.Get("livenessProbe")?.Get("httpGet")?.Get("path")?.GetValue<string>());
            var functions = c["env"]!.AsArray().Where(e => e!.Str("name").StartsWith("AzureFunctionsJobHost__functions__", StringComparison.Ordinal))
                .Select(e => e!.Str("value"));
            Assert.True(functions.Contains(health.Name), $"{d}: the host only loads its listed functions; list {health.Name}");
        }
    }
}
