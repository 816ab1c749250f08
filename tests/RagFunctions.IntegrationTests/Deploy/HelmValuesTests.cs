namespace RagFunctions.IntegrationTests.Deploy;

public sealed class HelmValuesTests
{
    // The charts Terraform releases; their versions are those the reference defaults were derived from.
    private static readonly Dictionary<string, Func<HelmValuesKeys>> Charts = new()
    {
        ["kube-prometheus-stack"] = HelmValuesKeys.KubePrometheusStack,
        ["prometheus-pushgateway"] = () => HelmValuesKeys.ForChart("prometheus-pushgateway"),
        ["keda"] = () => HelmValuesKeys.ForChart("keda"),
        ["keda-add-ons-http"] = () => HelmValuesKeys.ForChart("keda-add-ons-http"),
    };

    private static IReadOnlyList<HelmRelease> Releases() =>
        [.. TerraformText.HelmReleases("monitoring"), .. TerraformText.HelmReleases("keda")];

    [Fact]
    public void EveryChartIsReleasedAtTheVersionOfItsReferenceDefaults()
    {
        var releases = Releases();
        Assert.Equal(Charts.Keys.Order(), releases.Select(r => r.Chart).Order());
        Assert.All(releases, r => Assert.True(DeployPaths.ChartVersions[r.Chart] == r.Version,
            $"{r.Resource} pins {r.Chart} {r.Version}, but the reference defaults are of {DeployPaths.ChartVersions[r.Chart]}: run scripts/refresh-reference"));
    }

    [Fact]
    public void EveryValuesFileKeyExistsInTheChartDefaults()
    {
        var failures = new List<string>();
        foreach (var release in Releases())
        {
            var defaults = Charts[release.Chart]();
            foreach (var file in release.ValuesFiles)
            {
                Assert.True(File.Exists(file), $"{release.Resource}: values file {file} is missing");
                foreach (var path in HelmValuesKeys.LeafPaths(YamlJson.LoadSingle(file)))
                {
                    if (defaults.Check(path) is { } why)
                    {
                        failures.Add($"{Path.GetFileName(file)}: {string.Join('.', path)}: {why}");
                    }
                }
            }
            foreach (var key in release.YamlencodeTopKeys)
            {
                if (defaults.Check([key]) is { } why)
                {
                    failures.Add($"{release.Resource} yamlencode: {key}: {why}");
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public void EverySetEntryNamesAKeyOfTheChartDefaults()
    {
        var failures = new List<string>();
        var count = 0;
        foreach (var release in Releases())
        {
            var defaults = Charts[release.Chart]();
            foreach (var name in release.SetNames)
            {
                count++;
                if (defaults.Check(HelmValuesKeys.ParseSetName(name)) is { } why)
                {
                    failures.Add($"{release.Resource} set {name}: {why}");
                }
            }
        }
        Assert.True(count > 0, "no set entries found; the .tf parsing is broken");
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Theory]
    [InlineData("grafana.sidecar.dashbords.folderAnnotation", false)]          // typo
    [InlineData("grafana.sidecar.dashboards.folderAnnotation", true)]          // grafana sub-chart key, absent from the stack's grafana section
    [InlineData("grafana.adminPassword", false)]                               // only a comment in both charts
    [InlineData("prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.resources.requests.storage", true)] // under a {} default
    [InlineData("prometheus.additionalPodMonitors[0].namespaceSelector.matchNames[0]", true)] // list index
    [InlineData("prometheus.prometheusSpec.retention.days", false)]            // under a scalar
    [InlineData("alertmanager.alertmanagerSpec.configSecret", false)]          // commented out upstream
    public void KeyCheckFollowsTheChartDefaults(string key, bool exists)
    {
        var why = HelmValuesKeys.KubePrometheusStack().Check(HelmValuesKeys.ParseSetName(key));
        Assert.True((why is null) == exists, why ?? $"{key} unexpectedly accepted");
    }

    [Fact]
    public void SetNamesSplitOnUnescapedDotsAndIndexes()
    {
        Assert.Equal(["networkPolicy", "customSelectors", "[0]", "namespaceSelector", "matchLabels", "kubernetes.io/metadata.name"],
            HelmValuesKeys.ParseSetName(@"networkPolicy.customSelectors[0].namespaceSelector.matchLabels.kubernetes\.io/metadata\.name"));
    }

    [Fact]
    public void ProvidersArePinnedAndHelmUsesV3Syntax()
    {
        foreach (var dir in Directory.GetDirectories(DeployPaths.Repo("terraform", "modules")).Concat(Directory.GetDirectories(DeployPaths.Repo("terraform", "environments"))))
        {
            var text = string.Join("\n", Directory.GetFiles(dir, "*.tf").Select(File.ReadAllText));
            var providers = System.Text.RegularExpressions.Regex.Matches(text, @"(\w+)\s*=\s*\{\s*source\s*=\s*""hashicorp/(\w+)""\s*version\s*=\s*""([^""]+)""");
            Assert.True(providers.Count > 0, $"{dir}: required_providers must pin versions");
            Assert.Contains(providers, p => p.Groups[2].Value == "helm" && p.Groups[3].Value.StartsWith("~> 3", StringComparison.Ordinal));
            Assert.DoesNotMatch(@"(?m)^\s*set\s*\{", text);           // helm v2 block syntax
            Assert.DoesNotMatch(@"(?m)^\s*kubernetes\s*\{", text);    // helm v2 nested block
        }
    }

    [Fact]
    public void GrafanaIsClusterIpWithANonDefaultAdminPassword()
    {
        var variables = File.ReadAllText(Path.Combine(TerraformText.ModuleDir("monitoring"), "variables.tf"));
        var password = TerraformText.BraceBody(variables, variables.IndexOf('{', variables.IndexOf("variable \"grafana_admin_password\"", StringComparison.Ordinal)));
        Assert.Contains("sensitive   = true", password, StringComparison.Ordinal);
        Assert.Contains("default     = null", password, StringComparison.Ordinal);
        Assert.Contains("random_password\" \"grafana_admin\"", TerraformText.ModuleText("monitoring"), StringComparison.Ordinal);
        var serviceType = TerraformText.BraceBody(variables, variables.IndexOf('{', variables.IndexOf("variable \"grafana_service_type\"", StringComparison.Ordinal)));
        Assert.Contains("default     = \"ClusterIP\"", serviceType, StringComparison.Ordinal);
        foreach (var file in Directory.GetFiles(DeployPaths.Repo("terraform"), "*.*", SearchOption.AllDirectories))
        {
            Assert.DoesNotMatch("(?i)password\\s*[=:]\\s*\"admin\"", File.ReadAllText(file));
        }
    }

    [Fact]
    public void AlertReceiverUrlsAreSensitiveVariablesWithoutDefaults()
    {
        var variables = File.ReadAllText(Path.Combine(TerraformText.ModuleDir("monitoring"), "variables.tf"));
        foreach (var name in new[] { "alert_webhook_url", "slack_webhook_url" })
        {
            var body = TerraformText.BraceBody(variables, variables.IndexOf('{', variables.IndexOf($"variable \"{name}\"", StringComparison.Ordinal)));
            Assert.Contains("sensitive   = true", body, StringComparison.Ordinal);
            Assert.DoesNotContain("default", body, StringComparison.Ordinal);
        }
    }
}
