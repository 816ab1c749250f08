using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using RagFunctions.Core.Budgets;
using RagFunctions.Core.Metrics.Push;
using RagFunctions.Ledger;

namespace RagFunctions.IntegrationTests.Deploy;

public sealed class KedaManifestTests
{
    public static TheoryData<string> Kustomizations => new() { "keda/base", "keda/overlays/dev", "keda/overlays/prod-example" };

    private static readonly HashSet<string> CoreKinds = ["Namespace", "ServiceAccount", "Deployment", "Service", "ConfigMap", "Secret", "NetworkPolicy"];

    private static readonly string[] HttpFunctions = ["QueryFunction", "SubmitBatchFunction", "BatchStatusFunction"];
    private static readonly string[] QueueFunctions = ["ProcessQueryMessage", "RecordPoisonMessage"];

    private static IReadOnlyList<Manifest> Render(string dir) => Kustomize.Build(dir);

    private static IEnumerable<Manifest> OfKind(IEnumerable<Manifest> all, string kind) => all.Where(m => m.Kind == kind);

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public void EveryCustomResourceValidatesAgainstItsCrdSchema(string dir)
    {
        var manifests = Render(dir);
        var custom = manifests.Where(m => !CoreKinds.Contains(m.Kind)).ToList();
        Assert.Contains(custom, m => m.Kind == "ScaledObject");
        Assert.Contains(custom, m => m.Kind == "TriggerAuthentication");
        Assert.Contains(custom, m => m.Kind == "InterceptorRoute");
        Assert.DoesNotContain(custom, m => m.Kind == "HTTPScaledObject");

        var failures = custom.SelectMany(m => CrdSchemas.Violations(m.Body).Select(v => $"{m} {v}")).ToList();
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public void SchemaValidationRejectsAMisspelledScaledObjectField()
    {
        Assert.True(CrdSchemas.TryGet("keda.sh/v1alpha1", "ScaledObject", out var schema));
        var good = JsonDocument.Parse("""{"apiVersion":"keda.sh/v1alpha1","kind":"ScaledObject","metadata":{"name":"x"},"spec":{"scaleTargetRef":{"name":"d"},"minReplicaCount":0,"triggers":[{"type":"cpu","metadata":{}}]}}""");
        var typo = JsonDocument.Parse("""{"apiVersion":"keda.sh/v1alpha1","kind":"ScaledObject","metadata":{"name":"x"},"spec":{"scaleTargetRef":{"name":"d"},"minReplicas":0,"triggers":[{"type":"cpu","metadata":{}}]}}""");
        Assert.True(schema.Evaluate(good.RootElement).IsValid);
        Assert.False(schema.Evaluate(typo.RootElement).IsValid);
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public void EveryNamespacedObjectIsInTheAppNamespace(string dir)
    {
        var manifests = Render(dir);
        var ns = Assert.Single(OfKind(manifests, "Namespace")).Name;
        Assert.Equal("rag", ns);
        var elsewhere = manifests.Where(m => m.Kind != "Namespace" && m.Namespace != ns).Select(m => $"{m}: namespace {m.Namespace ?? "(none: the current one)"}").ToList();
        Assert.True(elsewhere.Count == 0, $"not in {ns}:\n{string.Join('\n', elsewhere)}");
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public void EveryConfigMapAndSecretReferenceResolvesInTheSameNamespace(string dir)
    {
        var manifests = Render(dir);
        var references = manifests.SelectMany(ConfigReference.Of).ToList();
        var failures = new List<string>();
        foreach (var r in references)
        {
            var target = manifests.SingleOrDefault(t => t.Kind == r.Kind && t.Name == r.Name && t.Namespace == r.From.Namespace);
            if (target is null)
            {
                var namesake = manifests.Where(t => t.Kind == r.Kind && t.Name == r.Name).Select(t => t.Namespace ?? "(none)").ToList();
                failures.Add($"{r}: no {r.Kind} of that name in namespace {r.From.Namespace}{(namesake.Count > 0 ? $" (one is in {string.Join(", ", namesake)})" : "")}");
            }
            else if (r.Key is { } key && target.Body["data"]?[key] is null && target.Body["stringData"]?[key] is null)
            {
                failures.Add($"{r}: {target} has no key {key}");
            }
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));
        // Each kind of reference the manifests rely on was checked, so this cannot pass by finding none.
        Assert.All(new[] { "envFrom", "valueFrom", "volume", "secretTargetRef" },
            via => Assert.Contains(references, r => r.Via.Contains(via, StringComparison.Ordinal)));
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public void DeploymentsSelectTheirOwnPodTemplates(string dir)
    {
        var deployments = OfKind(Render(dir), "Deployment").ToList();
        Assert.Equal(["rag-batch", "rag-ledger", "rag-query"], deployments.Select(d => d.Name).Order());
        foreach (var d in deployments)
        {
            var selector = d.Body.Get("spec.selector.matchLabels")!.AsObject();
            var labels = d.Body.Get("spec.template.metadata.labels")!.AsObject();
            Assert.NotEmpty(selector);
            foreach (var (k, v) in selector)
            {
                Assert.True(labels[k]?.GetValue<string>() == v!.GetValue<string>(), $"{d}: selector {k}={v} not on the pod template");
            }
            // Selectors must not match another Deployment's pods.
            foreach (var other in deployments.Where(o => o != d))
            {
                var otherLabels = other.Body.Get("spec.template.metadata.labels")!.AsObject();
                Assert.False(selector.All(kv => otherLabels[kv.Key]?.GetValue<string>() == kv.Value!.GetValue<string>()),
                    $"{d}: selector also matches {other}'s pods");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public void ContainersArePinnedBoundedProbedAndHardened(string dir)
    {
        var failures = new List<string>();
        foreach (var d in OfKind(Render(dir), "Deployment"))
        {
            var pod = d.Body.Get("spec.template.spec")!;
            if (pod["securityContext"]?["runAsNonRoot"]?.GetValue<bool>() != true || pod["securityContext"]?["runAsUser"]?.GetValue<long>() is null or 0)
            {
                failures.Add($"{d}: pod securityContext must set runAsNonRoot and a non-zero runAsUser");
            }
            if (pod["securityContext"]?["seccompProfile"]?["type"]?.GetValue<string>() != "RuntimeDefault")
            {
                failures.Add($"{d}: pod seccompProfile must be RuntimeDefault");
            }
            if (pod["terminationGracePeriodSeconds"]?.GetValue<long>() is not { } grace || grace < 30)
            {
                failures.Add($"{d}: terminationGracePeriodSeconds must cover host drain + worker 5 s + final push 3 s (>= 30)");
            }
            foreach (var c in Kustomize.Containers(d))
            {
                var name = $"{d} container {c.Str("name")}";
                var (repo, tag) = Kustomize.SplitImage(c.Str("image"));
                if (tag is null || tag == "latest")
                {
                    failures.Add($"{name}: image {repo} must be pinned by a tag other than latest");
                }
                foreach (var r in new[] { "requests.cpu", "requests.memory", "limits.cpu", "limits.memory" })
                {
                    if (c["resources"].Get(r) is null)
                    {
                        failures.Add($"{name}: resources.{r} missing");
                    }
                }
                var sc = c["securityContext"];
                if (sc?["allowPrivilegeEscalation"]?.GetValue<bool>() != false || sc["readOnlyRootFilesystem"]?.GetValue<bool>() != true
                    || sc["capabilities"]?["drop"]?.AsArray().Any(x => x!.GetValue<string>() == "ALL") != true)
                {
                    failures.Add($"{name}: securityContext must drop ALL, forbid privilege escalation and mount the root read-only");
                }
                var ports = (c["ports"]?.AsArray() ?? []).Select(p => (Name: p!["name"]?.GetValue<string>(), Port: p["containerPort"]!.GetValue<long>())).ToList();
                foreach (var probeName in new[] { "startupProbe", "readinessProbe", "livenessProbe" })
                {
                    if (c[probeName]?["httpGet"]?["port"] is { } port)
                    {
                        var ok = port.GetValueKind() == JsonValueKind.String
                            ? ports.Any(p => p.Name == port.GetValue<string>())
                            : ports.Any(p => p.Port == port.GetValue<long>());
                        if (!ok)
                        {
                            failures.Add($"{name}: {probeName} uses port {port} that the container does not declare");
                        }
                    }
                }
                if (ports.Count > 0 && (c["readinessProbe"] is null || c["livenessProbe"] is null))
                {
                    failures.Add($"{name}: serves on a port, so it needs readiness and liveness probes");
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public void EveryProcessIsPid1ThroughAnExecFormCommand()
    {
        foreach (var d in OfKind(Render("keda/base"), "Deployment"))
        {
            var command = Kustomize.Containers(d).Single()["command"]?.AsArray().Select(x => x!.GetValue<string>()).ToList();
            Assert.True(command is { Count: > 0 }, $"{d}: override the image's start script with an exec-form command");
            Assert.DoesNotContain(command![0], new[] { "sh", "/bin/sh", "bash", "/bin/bash" });
            var expected = d.Name == "rag-ledger" ? "dotnet" : "/azure-functions-host/Microsoft.Azure.WebJobs.Script.WebHost";
            Assert.Equal(expected, command[0]);
        }
    }

    [Fact]
    public void HostSplitGivesEveryFunctionToExactlyOneDeploymentAndHealthToBoth()
    {
        var manifests = Render("keda/base");
        IReadOnlyList<string> FunctionsOf(string deployment)
        {
            var env = Kustomize.Containers(OfKind(manifests, "Deployment").Single(d => d.Name == deployment)).Single()["env"]!.AsArray();
            var split = env.Where(e => e!.Str("name").StartsWith("AzureFunctionsJobHost__functions__", StringComparison.Ordinal))
                .Select(e => (Index: int.Parse(e!.Str("name")["AzureFunctionsJobHost__functions__".Length..], System.Globalization.CultureInfo.InvariantCulture), Name: e.Str("value")))
                .OrderBy(x => x.Index).ToList();
            Assert.Equal(Enumerable.Range(0, split.Count), split.Select(x => x.Index));
            return [.. split.Select(x => x.Name)];
        }
        // Each pod's readiness probe calls HealthFunction, so both hosts load it.
        Assert.Equal([.. HttpFunctions, "HealthFunction"], FunctionsOf("rag-query"));
        Assert.Equal([.. QueueFunctions, "HealthFunction"], FunctionsOf("rag-batch"));
        var all = Infrastructure.AppBuildOutput.Functions().Select(Infrastructure.AppBuildOutput.Name).Order();
        Assert.Equal(all, HttpFunctions.Concat(QueueFunctions).Append("HealthFunction").Order());
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public void ServicesSelectPodsAndTargetDeclaredPorts(string dir)
    {
        var manifests = Render(dir);
        foreach (var svc in OfKind(manifests, "Service"))
        {
            var selector = svc.Body.Get("spec.selector")!.AsObject();
            var backends = OfKind(manifests, "Deployment").Where(d =>
                selector.All(kv => d.Body.Get("spec.template.metadata.labels")![kv.Key]?.GetValue<string>() == kv.Value!.GetValue<string>())).ToList();
            Assert.True(backends.Count == 1, $"{svc}: selects {backends.Count} Deployments");
            Assert.Equal("ClusterIP", svc.Body.Get("spec.type")?.GetValue<string>() ?? "ClusterIP");
            var containerPorts = Kustomize.Containers(backends[0]).SelectMany(c => c["ports"]?.AsArray() ?? []).ToList();
            foreach (var port in svc.Body.Get("spec.ports")!.AsArray())
            {
                var target = port!["targetPort"]!;
                Assert.True(target.GetValueKind() == JsonValueKind.String
                    ? containerPorts.Any(p => p!["name"]?.GetValue<string>() == target.GetValue<string>())
                    : containerPorts.Any(p => p!["containerPort"]!.GetValue<long>() == target.GetValue<long>()),
                    $"{svc}: targetPort {target} is not a port of {backends[0]}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public void ScalersTargetExistingObjects(string dir)
    {
        var manifests = Render(dir);
        var deployments = OfKind(manifests, "Deployment").Select(d => d.Name).ToHashSet();
        var routes = OfKind(manifests, "InterceptorRoute").ToDictionary(r => r.Name);
        var auths = OfKind(manifests, "TriggerAuthentication").ToDictionary(a => a.Name);
        var secrets = OfKind(manifests, "Secret").ToDictionary(s => s.Name);
        var services = OfKind(manifests, "Service").ToDictionary(s => s.Name);

        var scaledObjects = OfKind(manifests, "ScaledObject").ToDictionary(s => s.Body.Str("spec.scaleTargetRef.name"));
        Assert.Equal(["rag-batch", "rag-query"], scaledObjects.Keys.Order());
        Assert.DoesNotContain("rag-ledger", scaledObjects.Keys);
        foreach (var (target, so) in scaledObjects)
        {
            Assert.Contains(target, deployments);
            Assert.Equal(0L, so.Body.Get("spec.minReplicaCount")!.GetValue<long>());
            foreach (var trigger in so.Body.Get("spec.triggers")!.AsArray())
            {
                switch (trigger!.Str("type"))
                {
                    case "external-push":
                        var route = routes[trigger.Str("metadata.interceptorRoute")];
                        Assert.EndsWith(":9090", trigger.Str("metadata.scalerAddress"), StringComparison.Ordinal);
                        Assert.StartsWith("keda-add-ons-http-external-scaler.", trigger.Str("metadata.scalerAddress"), StringComparison.Ordinal);
                        var svc = services[route.Body.Str("spec.target.service")];
                        Assert.Contains(svc.Body.Get("spec.ports")!.AsArray(), p => p!["port"]!.GetValue<long>() == route.Body.Get("spec.target.port")!.GetValue<long>());
                        var podLabels = OfKind(manifests, "Deployment").Single(x => x.Name == target).Body.Get("spec.template.metadata.labels")!.AsObject();
                        Assert.All(svc.Body.Get("spec.selector")!.AsObject(), kv => Assert.Equal(kv.Value!.GetValue<string>(), podLabels[kv.Key]?.GetValue<string>()));
                        break;
                    case "azure-queue":
                        Assert.StartsWith("rag-queries", trigger.Str("metadata.queueName"), StringComparison.Ordinal);
                        Assert.NotNull(trigger.Get("metadata.queueLength"));
                        Assert.NotNull(trigger.Get("metadata.activationQueueLength"));
                        if (trigger.Str("metadata.queueName") == "rag-queries")
                        {
                            // Questions deferred to a budget reset wait hidden in rag-queries; they must not hold pods up.
                            Assert.Equal("visibleonly", trigger.Str("metadata.queueLengthStrategy"));
                        }

                        var auth = auths[trigger.Str("authenticationRef.name")];
                        foreach (var reference in auth.Body.Get("spec.secretTargetRef")!.AsArray())
                        {
                            Assert.True(secrets.TryGetValue(reference!.Str("name"), out var secret), $"{auth}: secret {reference.Str("name")} is not generated");
                            Assert.NotNull(secret!.Body["data"]![reference.Str("key")]);
                        }
                        break;
                    default:
                        Assert.Fail($"{so}: unexpected trigger {trigger.Str("type")}");
                        break;
                }
            }
        }
        Assert.Contains(scaledObjects["rag-batch"].Body.Get("spec.triggers")!.AsArray(), t => t!.Str("metadata.queueName") == "rag-queries");
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public void EachProcessBindsValidOptionsFromItsRenderedSettings(string dir)
    {
        var manifests = Render(dir);
        var budgetSettings = new HashSet<string>();
        foreach (var d in OfKind(manifests, "Deployment"))
        {
            var settings = ProcessSettings.Of(manifests, d);
            Assert.True(settings.ContainsKey("Rag__Environment"));
            // Nothing shipped overwrites X-Rag-Tenant-Key in front of the app (the interceptor forwards it), so it is not trusted.
            Assert.True(!settings.TryGetValue("Rag__TrustTenantHeader", out var trust) || !bool.Parse(trust),
                $"{d}: Rag__TrustTenantHeader must stay false in shipped manifests");

            // Tenants and budgets: one set of settings, the same in every process, valid as both compositions bind it.
            var budgets = ProcessSettings.Bind<BudgetOptions>(settings, (services, configuration) => services.AddBudgetOptions(configuration));
            Assert.True(dir == "keda/base" || (budgets.Budgets.Daily.Hard is > 0 && budgets.Budgets.Monthly.Hard is > 0), $"{d}: an overlay sets the global daily and monthly hard limits (budgets.env)");
            budgetSettings.Add(string.Join('\n', settings.Where(s => s.Key.StartsWith("Rag__Tenants__", StringComparison.Ordinal) || s.Key.StartsWith("Rag__Budgets__", StringComparison.Ordinal))
                .OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key}={s.Value}")));
            var ledger = d.Name == "rag-ledger";
            var credentials = ledger ? new[] { "Ledger__Username", "Ledger__Password" } : ["Rag__Push__Username", "Rag__Push__Password"];
            foreach (var required in credentials.Append("AzureWebJobsStorage"))
            {
                Assert.True(settings.TryGetValue(required, out var v) && v == ProcessSettings.FromSecret, $"{d}: {required} must come from a Secret");
            }

            // The settings as each process binds them, through its own composition and validators.
            if (ledger)
            {
                var options = ProcessSettings.Bind<LedgerOptions>(settings, (services, configuration) => services.AddLedger(configuration));
                Assert.Equal(PushgatewayUrl, options.PushgatewayUrl);
                Assert.Equal("rag-functions", options.InstanceJob);
                Assert.Equal(ProcessSettings.FromSecret, options.Username);
            }
            else
            {
                var options = ProcessSettings.Bind<PushOptions>(settings, (services, _) => services.AddMetricsPusher());
                Assert.True(options.Enabled, $"{d}: Rag__Push__Enabled must be true or the pods never push");
                Assert.Equal(PushgatewayUrl, options.Url);
                Assert.Equal("rag-functions", options.Job);
                Assert.Equal(ProcessSettings.FromSecret, options.Username);
            }
        }

        Assert.Single(budgetSettings);
    }

    private const string PushgatewayUrl = "http://prometheus-pushgateway.monitoring.svc:9091";

    [Fact]
    public void OverlaysSetTheirEnvironmentAndAPinnedImage()
    {
        foreach (var (dir, env) in new[] { ("keda/overlays/dev", "dev"), ("keda/overlays/prod-example", "prod") })
        {
            var manifests = Render(dir);
            Assert.Equal(env, OfKind(manifests, "ConfigMap").Single(c => c.Name.StartsWith("rag-settings-", StringComparison.Ordinal)).Body["data"]!["Rag__Environment"]!.GetValue<string>());
            var images = OfKind(manifests, "Deployment").SelectMany(Kustomize.Containers).Select(c => c.Str("image")).Distinct().ToList();
            Assert.Single(images);
        }
    }

    [Fact]
    public void OnlySecretTemplatesAreCommitted()
    {
        var secretsDir = DeployPaths.Repo("keda", "base", "secrets");
        Assert.NotEmpty(Directory.GetFiles(secretsDir, "*.env.example"));
        var gitignore = File.ReadAllLines(DeployPaths.Repo(".gitignore"));
        Assert.Contains("keda/**/secrets/*.env", gitignore);
        foreach (var example in Directory.GetFiles(secretsDir, "*.env.example"))
        {
            Assert.All(File.ReadAllLines(example).Where(l => l.Contains('=', StringComparison.Ordinal) && !l.StartsWith('#')),
                l => Assert.Matches(@"<[^>]+>|^Rag__Push__Username=", l));
        }
    }

    [Fact]
    public void PushgatewayNetworkPolicyAdmitsTheAppPodsAndPrometheusOnly()
    {
        var values = YamlJson.LoadSingle(Path.Combine(TerraformText.ModuleDir("monitoring"), "values", "prometheus-pushgateway.yaml"));
        var selectors = values.Get("networkPolicy.customSelectors")!.AsArray();
        Assert.Equal(2, selectors.Count);
        var appSelector = selectors[0]!.Get("podSelector.matchLabels")!.AsObject();
        var manifests = Render("keda/base");
        var appNamespace = OfKind(manifests, "Namespace").Single().Name;
        Assert.Equal(appNamespace, selectors[0]!.Get("namespaceSelector.matchLabels")!["kubernetes.io/metadata.name"]!.GetValue<string>());
        foreach (var d in OfKind(manifests, "Deployment"))
        {
            var labels = d.Body.Get("spec.template.metadata.labels")!.AsObject();
            Assert.All(appSelector, kv => Assert.Equal(kv.Value!.GetValue<string>(), labels[kv.Key]?.GetValue<string>()));
        }
        Assert.Equal("prometheus", selectors[1]!.Get("podSelector.matchLabels")!["app.kubernetes.io/name"]!.GetValue<string>());
    }
}
