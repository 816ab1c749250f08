using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;
using RagFunctions.IntegrationTests.Deploy;
using RagFunctions.IntegrationTests.Infrastructure;

namespace RagFunctions.IntegrationTests.LocalDevelopment;

/// <summary>
/// scripts/docker-compose.yml cannot run here (no Docker engine): it is validated against the Compose Specification's
/// schema, and the facts the stack depends on are checked on the rendered model and against the upstream images.
/// </summary>
public sealed partial class ComposeFileTests
{
    private static readonly ComposeModel Model = ComposeModel.Load();

    /// <summary>Derived from upstream by scripts/refresh-reference; Reference/provenance.json says from what.</summary>
    private static readonly string SchemaFile = DeployPaths.Reference("compose", "compose-spec.schema.json");

    private static readonly Lazy<JsonSchema> Schema = new(() =>
    {
        var text = File.ReadAllText(SchemaFile);
        // The spec names draft-07 as https://json-schema.org/draft-07/schema; JsonSchema.Net knows draft-07 by its
        // canonical id (http://json-schema.org/draft-07/schema#), so the spec's spelling is registered as draft-07.
        var dialects = new DialectRegistry();
        dialects.Register(Dialect.Draft07.With([], new Uri(JsonNode.Parse(text)!.Str("$schema"))));
        return JsonSchema.FromText(text, new BuildOptions { DialectRegistry = dialects });
    });

    /// <summary>
    /// Who each upstream image runs as, and the folders that user owns in the image, read from each image's Dockerfile:
    /// at the pinned tag where the source names one, else at the commit it names. A new named volume takes the owner of
    /// the folder it is mounted on when the image has that folder; anywhere else it is root's. Changing a tag means
    /// reading that tag's Dockerfile again.
    /// </summary>
    private static readonly Dictionary<string, ImageUser> Images = new()
    {
        ["prom/prometheus"] = new("v3.5.0", "nobody", ["/prometheus"],
            "prometheus/prometheus v3.5.0 Dockerfile: WORKDIR /prometheus; RUN chown -R nobody:nobody /etc/prometheus /prometheus; USER nobody"),
        ["prom/alertmanager"] = new("v0.28.1", "nobody", ["/alertmanager"],
            "prometheus/alertmanager v0.28.1 Dockerfile: RUN mkdir -p /alertmanager && chown -R nobody:nobody etc/alertmanager /alertmanager; USER nobody"),
        ["prom/pushgateway"] = new("v1.11.1", "65534", ["/pushgateway"],
            "prometheus/pushgateway v1.11.1 Dockerfile: RUN mkdir -p /pushgateway && chown nobody:nobody /pushgateway; USER 65534 (nobody)"),
        ["grafana/grafana"] = new("12.1.1", "472", ["/var/lib/grafana"],
            "grafana/grafana Dockerfile (main, 78515af): GF_PATHS_DATA=/var/lib/grafana, chown -R grafana and chmod -R 777 it; USER \"$GF_UID\" (472)"),
        ["mcr.microsoft.com/azure-storage/azurite"] = new("3.37.0", "root", [],
            "Azure/Azurite Dockerfile (main, 9074bea): no USER instruction; VOLUME [ \"/data\" ]"),
        ["busybox"] = new("1.37", "root", [], "docker-library/busybox latest/glibc/Dockerfile (9c20878): FROM scratch; ADD busybox.tar.gz /; no USER instruction"),
    };

    private sealed record ImageUser(string Tag, string User, string[] OwnedFolders, string Source)
    {
        public bool CanWrite(string folder) => User == "root" || OwnedFolders.Contains(folder);
    }

    /// <summary>Command-line flags that name where a server keeps its data.</summary>
    private static readonly string[] DataFlags = ["--persistence.file", "--storage.tsdb.path", "--storage.path", "--location"];

    [Fact]
    public void RunsTheSameStackAsScriptsDevPlusGrafana()
    {
        Assert.Equal(
            ["alertmanager", "app", "azurite", "grafana", "ledger", "prometheus", "pushgateway", "rules"],
            Model.Services.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void ValidatesAgainstTheComposeSpecificationSchema()
    {
        var failures = SchemaErrors(Model.Document);
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public void SchemaRejectsAMisspelledServiceKeyAndAPortListGivenAsANumber()
    {
        var typo = Model.Document.DeepClone().AsObject();
        typo["services"]!["pushgateway"]!["volume"] = new JsonArray("pushgateway:/pushgateway");
        Assert.Contains(SchemaErrors(typo), e => e.Contains("/services/pushgateway", StringComparison.Ordinal));

        var wrongType = Model.Document.DeepClone().AsObject();
        wrongType["services"]!["prometheus"]!["ports"] = 9090;
        Assert.Contains(SchemaErrors(wrongType), e => e.Contains("/services/prometheus/ports", StringComparison.Ordinal));
    }

    [Fact]
    public void EveryBindMountSourceAndTheBuildContextExistRelativeToTheComposeFolder()
    {
        var binds = Model.Services.Values.SelectMany(s => s.Mounts.Where(m => m.Type == "bind").Select(m => (s.Name, m.Source!))).ToList();
        Assert.NotEmpty(binds);
        Assert.All(binds, b => Assert.True(File.Exists(b.Item2) || Directory.Exists(b.Item2), $"{b.Name}: bind source {b.Item2} does not exist"));

        var build = Model.Services["app"].Raw["build"]!;
        var context = Path.GetFullPath(Path.Combine(Model.Folder, build.Str("context")));
        Assert.Equal(Prerequisites.RepoRoot.TrimEnd('/'), context.TrimEnd('/'));
        Assert.True(File.Exists(Path.Combine(context, build.Str("dockerfile"))), $"no Dockerfile {build.Str("dockerfile")} in {context}");
    }

    [Fact]
    public void EveryWritableVolumeIsMountedWhereTheImageUserCanWrite()
    {
        foreach (var service in Model.Services.Values.Where(s => s.Image != "ragfunctions:local"))
        {
            var (repository, tag) = Kustomize.SplitImage(service.Image!);
            Assert.True(Images.TryGetValue(repository, out var image), $"{service.Name}: no recorded facts for image {repository}; read its Dockerfile and add them");
            Assert.True(image!.Tag == tag, $"{service.Name}: the facts are recorded for {repository}:{image.Tag}, the file pins {tag}; read that tag's Dockerfile again");
            Assert.Null(service.User);
            foreach (var mount in service.Mounts.Where(m => m.Type == "volume" && !m.ReadOnly))
            {
                Assert.True(image.CanWrite(mount.Target),
                    $"{service.Name}: volume {mount.Source} at {mount.Target} is root's, but the image runs as {image.User} and owns only {string.Join(", ", image.OwnedFolders)} ({image.Source})");
            }
        }
    }

    [Fact]
    public void EveryServerKeepsItsDataOnAWritableNamedVolume()
    {
        var checkedPaths = 0;
        foreach (var service in Model.Services.Values)
        {
            foreach (var path in DataPaths(service.Command))
            {
                checkedPaths++;
                Assert.True(service.Mounts.Any(m => m.Type == "volume" && !m.ReadOnly && Model.NamedVolumes.Contains(m.Source!) && ContainerPath.IsAtOrUnder(path, m.Target)),
                    $"{service.Name}: data path {path} is not on a writable named volume, so it is lost with the container");
            }
        }
        Assert.Equal(4, checkedPaths);
    }

    [Fact]
    public void ServiceNamesResolveToTheUrlsTheAppAndTheLedgerUse()
    {
        var app = Model.Services["app"].Environment;
        var ledger = Model.Services["ledger"].Environment;
        var urls = new List<(string User, Uri Url)>
        {
            ("app Rag__Push__Url", new Uri(app["Rag__Push__Url"])),
            ("ledger Ledger__PushgatewayUrl", new Uri(ledger["Ledger__PushgatewayUrl"])),
        };
        urls.AddRange(StorageEndpoints(app["AzureWebJobsStorage"]).Select(u => ("app AzureWebJobsStorage", u)));
        urls.AddRange(StorageEndpoints(ledger["Ledger__StorageConnectionString"]).Select(u => ("ledger Ledger__StorageConnectionString", u)));
        var datasource = YamlJson.LoadSingle(DeployPaths.Repo("scripts", "grafana", "provisioning", "datasources", "prometheus.yml"))!["datasources"]![0]!;
        urls.Add(("grafana datasource", new Uri(datasource.Str("url"))));
        var prometheus = YamlJson.LoadSingle(DeployPaths.Repo("scripts", "compose", "prometheus.yml"))!;
        urls.AddRange(prometheus["scrape_configs"]!.AsArray().Concat(prometheus.Get("alerting.alertmanagers")!.AsArray())
            .SelectMany(c => c!["static_configs"]!.AsArray()).SelectMany(s => s!["targets"]!.AsArray())
            .Select(t => t!.GetValue<string>()).Where(t => !t.StartsWith("localhost:", StringComparison.Ordinal))
            .Select(t => ("prometheus target", new Uri($"http://{t}"))));

        Assert.Equal(["alertmanager", "azurite", "ledger", "prometheus", "pushgateway"], urls.Select(u => u.Url.Host).Distinct().Order(StringComparer.Ordinal));
        foreach (var (user, url) in urls)
        {
            Assert.True(Model.Services.TryGetValue(url.Host, out var target), $"{user}: {url} names no service of the compose file");
            Assert.True(target!.Ports.Any(p => p.Target == url.Port), $"{user}: {url.Host} does not listen on {url.Port} (it serves {string.Join(", ", target.Ports.Select(p => p.Target))})");
        }
    }

    [Fact]
    public void TheAppIsPublishedOnThePortTheImageListensOn()
    {
        var image = Dockerfile.Load(DeployPaths.Repo("functions", "RagFunctions.App", "Dockerfile"));
        var listening = new Uri(Dockerfile.Environment(image.FinalStage)["ASPNETCORE_URLS"].Replace("+", "localhost", StringComparison.Ordinal)).Port;
        Assert.Equal([listening], Model.Services["app"].Ports.Select(p => p.Target));
    }

    [Fact]
    public void PinsEveryImageByTagAndPublishesPortsOnLoopbackOnly()
    {
        foreach (var service in Model.Services.Values)
        {
            Assert.True(PinnedImage().IsMatch(service.Image!) && !service.Image!.EndsWith(":latest", StringComparison.Ordinal), $"{service.Name}: image {service.Image} is not pinned by tag");
            Assert.Null(service.Raw["network_mode"]);
            Assert.All(service.Ports, p => Assert.True(p.HostIp == "127.0.0.1", $"{service.Name}: port {p.Published} is published on {p.HostIp ?? "every interface"}"));
        }
        Assert.Contains(Model.Services.Values, s => s.Ports.Count > 0);
    }

    [Fact]
    public void LongRunningServicesRestartUnlessStoppedAndTheOneShotRulesJobDoesNot()
    {
        var oneShots = Model.Services.Values.SelectMany(s => s.Raw["depends_on"] as JsonObject ?? [])
            .Where(d => d.Value.Str("condition") == "service_completed_successfully").Select(d => d.Key).ToHashSet();
        Assert.Equal(["rules"], oneShots);
        foreach (var service in Model.Services.Values)
        {
            var expected = oneShots.Contains(service.Name) ? null : "unless-stopped";
            Assert.True(service.Restart == expected, $"{service.Name}: restart is {service.Restart ?? "unset"}, expected {expected ?? "unset"}");
        }
    }

    [Fact]
    public void NoComposeCommandNeedsAVariableAndOnlyGrafanaReadsItsPassword()
    {
        Assert.DoesNotMatch(RequiredVariable(), File.ReadAllText(ComposeModel.File));
        var readers = Model.Services.Values.Where(s => s.Environment.Values.Any(v => v.Contains("GRAFANA_ADMIN_PASSWORD", StringComparison.Ordinal)));
        Assert.Equal(["grafana"], readers.Select(s => s.Name));
        // Empty when unset: no default password, and Grafana's guard below refuses to start on an empty one.
        Assert.Equal("${GRAFANA_ADMIN_PASSWORD:-}", Model.Services["grafana"].Environment["GF_SECURITY_ADMIN_PASSWORD"]);
    }

    [Fact]
    public async Task GrafanaRefusesToStartWithoutAPasswordAndOtherwiseRunsTheImageEntrypoint()
    {
        var entrypoint = Model.Services["grafana"].Entrypoint;
        Assert.Equal(["sh", "-c"], entrypoint.Take(2));
        // Every `$` is escaped as `$$`, so Compose interpolates nothing and hands the container the script with `$`.
        Assert.DoesNotContain("$", entrypoint[2].Replace("$$", "", StringComparison.Ordinal), StringComparison.Ordinal);
        var script = entrypoint[2].Replace("$$", "$", StringComparison.Ordinal);

        var refused = await RunShellAsync(script, "");
        Assert.True(refused.ExitCode == 1 && refused.StandardError.Contains("GRAFANA_ADMIN_PASSWORD", StringComparison.Ordinal), refused.Output);

        // With a password the guard execs the image's entrypoint, which does not exist on this machine.
        var started = await RunShellAsync(script, "not-a-real-password");
        Assert.True(started.ExitCode == 127 && started.StandardError.Contains("/run.sh", StringComparison.Ordinal), started.Output);
    }

    [Fact]
    public void TheAppPinsAValidHostIdAndTheReadmeReadsTheKeysFromThatFolder()
    {
        var hostId = Model.Services["app"].Environment["AzureFunctionsWebHost__hostid"];
        // The host's rules for an explicit id: at most 32 characters (ScriptConstants.MaximumHostIdLength), lower-case
        // letters, digits and single dashes, neither first nor last.
        Assert.True(hostId.Length <= 32 && HostId().IsMatch(hostId), $"invalid host id {hostId}");
        var readme = File.ReadAllText(DeployPaths.Repo("README.md"));
        Assert.Contains($"azure-webjobs-secrets/{hostId}/host.json", readme, StringComparison.Ordinal);
    }

    [Fact]
    public void GrafanaFilesTheDashboardsInTheClustersFolder()
    {
        var variables = File.ReadAllText(DeployPaths.Repo("terraform", "modules", "monitoring", "variables.tf"));
        var declaration = Regex.Match(variables, @"variable\s+""grafana_folder""\s*\{");
        Assert.True(declaration.Success, "terraform/modules/monitoring declares no grafana_folder variable");
        var clusterFolder = TerraformText.Attribute(TerraformText.BraceBody(variables, declaration.Index + declaration.Length - 1), "default");
        var provider = YamlJson.LoadSingle(DeployPaths.Repo("scripts", "grafana", "provisioning", "dashboards", "rag.yml"))!["providers"]![0]!;
        Assert.Equal(clusterFolder, provider.Str("folder"));
    }

    [Fact]
    public void GrafanaMountsTheDashboardsWhereItsProviderLooks()
    {
        var provider = YamlJson.LoadSingle(DeployPaths.Repo("scripts", "grafana", "provisioning", "dashboards", "rag.yml"))!["providers"]![0]!;
        var mounts = Model.Services["grafana"].Mounts;
        Assert.Contains(new ComposeMount("bind", DeployPaths.Repo("dashboards"), provider.Str("options.path"), ReadOnly: true), mounts);
        Assert.Contains(new ComposeMount("bind", DeployPaths.Repo("scripts", "grafana", "provisioning"), "/etc/grafana/provisioning", ReadOnly: true), mounts);
        var datasource = YamlJson.LoadSingle(DeployPaths.Repo("scripts", "grafana", "provisioning", "datasources", "prometheus.yml"))!["datasources"]![0]!;
        Assert.Equal("prometheus", datasource.Str("type"));
    }

    [Fact]
    public void RulesServiceReplacesEveryPlaceholderOfTheTemplate()
    {
        var script = string.Join(' ', Model.Services["rules"].Command);
        Assert.All(RulesTemplate.Placeholders, p => Assert.Contains($"s|$${{{p}}}|", script, StringComparison.Ordinal));
    }

    [Fact]
    public void PrometheusScrapesTheLedgerServiceAndDropsGroupsPushedUnderItsJob()
    {
        var jobs = YamlJson.LoadSingle(DeployPaths.Repo("scripts", "compose", "prometheus.yml"))!["scrape_configs"]!.AsArray();
        var ledger = jobs.Single(j => j.Str("job_name") == "rag-ledger")!;
        var target = new Uri("http://" + ledger["static_configs"]![0]!["targets"]![0]!.GetValue<string>());
        var pushgatewayDrop = jobs.Single(j => j.Str("job_name") == "pushgateway")!["metric_relabel_configs"]!.AsArray()
            .Single(r => r.Str("action") == "drop")!;

        Assert.Equal(new Uri(Model.Services["ledger"].Environment["Ledger__MetricsUrl"]).Port, target.Port);
        Assert.Contains(target.Host, Model.Services.Keys);
        Assert.Equal(("job", "rag-ledger"), (pushgatewayDrop["source_labels"]![0]!.GetValue<string>(), pushgatewayDrop.Str("regex")));
        Assert.Equal("rag-ledger", ledger["metric_relabel_configs"]!.AsArray().Single(r => r.Str("target_label") == "instance")!.Str("replacement"));
    }

    [Fact]
    public async Task PrometheusConfigScrapesThePushgatewayWithHonorLabelsAndPassesPromtool()
    {
        var path = DeployPaths.Repo("scripts", "compose", "prometheus.yml");
        var config = YamlJson.LoadSingle(path)!;
        var pushgateway = config["scrape_configs"]!.AsArray().Single(j => j.Str("job_name") == "pushgateway")!;
        Assert.True(pushgateway["honor_labels"]!.GetValue<bool>());

        // As mounted in the container: the config next to rules/rag-rules.yaml, rendered from the template.
        var folder = Directory.CreateTempSubdirectory("compose-prometheus-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(folder, "rules"));
            File.Copy(path, Path.Combine(folder, "prometheus.yml"));
            await File.WriteAllTextAsync(Path.Combine(folder, "rules", "rag-rules.yaml"), RulesTemplate.Render(DeployPaths.Repo(RulesTemplate.RelativePath),
                new Dictionary<string, string>
                {
                    ["environment"] = "local", ["daily_budget_usd"] = "5", ["monthly_budget_usd"] = "100", ["burn_rate_hours"] = "6",
                    ["runbook_base_url"] = "https://example.invalid/corpus",
                }));
            var check = await ProcessRunner.RunAsync(Prerequisites.Promtool, ["check", "config", "prometheus.yml"], TimeSpan.FromSeconds(60), folder);
            Assert.True(check.ExitCode == 0, check.Output);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static List<string> SchemaErrors(JsonObject document)
    {
        var result = Schema.Value.Evaluate(JsonDocument.Parse(document.ToJsonString()).RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        return result.IsValid
            ? []
            : [.. (result.Details ?? []).Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Key}: {e.Value}"))];
    }

    /// <summary>The paths given to the data flags: `--flag=path` or `--flag path`.</summary>
    private static IEnumerable<string> DataPaths(IReadOnlyList<string> command)
    {
        for (var i = 0; i < command.Count; i++)
        {
            foreach (var flag in DataFlags)
            {
                if (command[i].StartsWith(flag + "=", StringComparison.Ordinal))
                {
                    yield return command[i][(flag.Length + 1)..];
                }
                else if (command[i] == flag && i + 1 < command.Count)
                {
                    yield return command[i + 1];
                }
            }
        }
    }

    private static IEnumerable<Uri> StorageEndpoints(string connectionString) =>
        connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2))
            .Where(p => p[0].EndsWith("Endpoint", StringComparison.Ordinal)).Select(p => new Uri(p[1]));

    private static Task<ProcessResult> RunShellAsync(string script, string password) =>
        ProcessRunner.RunAsync("/bin/sh", ["-c", script], TimeSpan.FromSeconds(30), Path.GetTempPath(),
            environment: new Dictionary<string, string> { ["GF_SECURITY_ADMIN_PASSWORD"] = password });

    [GeneratedRegex(@"^[a-z0-9./_-]+:[A-Za-z0-9._-]+$")]
    private static partial Regex PinnedImage();

    /// <summary>`${VAR?err}` or `${VAR:?err}`: Compose refuses every command, even `down`, when VAR is unset.</summary>
    [GeneratedRegex(@"\$\{[A-Za-z_][A-Za-z0-9_]*:?\?")]
    private static partial Regex RequiredVariable();

    [GeneratedRegex(@"^[a-z0-9]+(-[a-z0-9]+)*$")]
    private static partial Regex HostId();
}
