using System.Globalization;
using System.Text.RegularExpressions;
using RagFunctions.IntegrationTests.Infrastructure;

namespace RagFunctions.IntegrationTests.Deploy;

public sealed partial class TerraformTests
{
    [Fact]
    public async Task TerraformFmtCheckIsClean()
    {
        // Prerequisites.Terraform fails naming the set-up command (scripts/test) when terraform is not installed.
        var result = await ProcessRunner.RunAsync(Prerequisites.Terraform, ["fmt", "-check", "-recursive", "-diff", "terraform"], TimeSpan.FromSeconds(60),
            Prerequisites.RepoRoot, environment: new Dictionary<string, string> { ["TF_CLI_CONFIG_FILE"] = "/dev/null" });
        Assert.True(result.ExitCode == 0, $"terraform fmt -check -recursive found unformatted files:\n{result.StandardOutput}\n{result.StandardError}");
    }

    [Fact]
    public void RulesFileIsRenderedByTemplatefileNotCopied()
    {
        var main = File.ReadAllText(Path.Combine(TerraformText.ModuleDir("monitoring"), "main.tf"));
        var call = TemplatefileCall().Match(main);
        Assert.True(call.Success, "the monitoring module must render rules/rag-rules.yaml with templatefile()");
        var vars = TerraformText.BraceBody(main, call.Index + call.Length - 1);
        Assert.Equal(RulesTemplate.Placeholders.Order(), VarName().Matches(vars).Select(m => m.Groups[1].Value).Order());
        Assert.Contains("additionalPrometheusRulesMap", main, StringComparison.Ordinal);

        // No second copy: no other file under terraform/ holds Prometheus rule groups.
        var rulesFile = Path.Combine(TerraformText.ModuleDir("monitoring"), "rules", "rag-rules.yaml");
        var copies = Directory.GetFiles(DeployPaths.Repo("terraform"), "*", SearchOption.AllDirectories)
            .Where(f => f != rulesFile && !f.Contains("/.terraform/", StringComparison.Ordinal))
            .Where(f => Regex.IsMatch(File.ReadAllText(f), @"(?m)^\s*-\s*(alert|record):\s")).ToList();
        Assert.True(copies.Count == 0, $"rule definitions outside rules/rag-rules.yaml: {string.Join(", ", copies)}");

        // The rules file itself arrives from the exact-metrics work; once present its placeholders must be exactly these.
        if (File.Exists(rulesFile))
        {
            var used = Placeholder().Matches(File.ReadAllText(rulesFile)).Select(m => m.Groups[1].Value).Distinct();
            Assert.All(used, p => Assert.Contains(p, RulesTemplate.Placeholders));
        }
    }

    [Fact]
    public void EveryDashboardBecomesALabelledConfigMapInTheAnnotatedFolder()
    {
        var text = TerraformText.ModuleText("monitoring");
        var (_, body) = Assert.Single(TerraformText.Blocks(text, "kubernetes_config_map_v1"));
        Assert.Contains("fileset(local.dashboards_dir, \"*.json\")", body, StringComparison.Ordinal);
        Assert.Matches(@"grafana_dashboard\s*=\s*""1""", body);
        Assert.Contains("\"${path.module}/../../../dashboards\"", text, StringComparison.Ordinal);
        Assert.True(Directory.GetFiles(DeployPaths.Repo("dashboards"), "*.json").Length >= 3);

        var values = YamlJson.LoadSingle(Path.Combine(TerraformText.ModuleDir("monitoring"), "values", "kube-prometheus-stack.yaml"));
        var folderKey = values.Get("grafana.sidecar.dashboards.folderAnnotation")!.GetValue<string>();
        Assert.Matches($@"annotations\s*=\s*\{{\s*(#[^\n]*\n\s*)*{Regex.Escape(folderKey)}\s*=", body);
        Assert.True(values.Get("grafana.sidecar.dashboards.provider.foldersFromFilesStructure")!.GetValue<bool>());
    }

    [Fact]
    public void PushgatewayIsScrapedWithHonorLabelsPersistenceAuthAndNoPerPushCheck()
    {
        var values = YamlJson.LoadSingle(Path.Combine(TerraformText.ModuleDir("monitoring"), "values", "prometheus-pushgateway.yaml"));
        var defaults = DeployPaths.ChartDefaults("prometheus-pushgateway");
        Assert.True(values.Get("serviceMonitor.enabled")!.GetValue<bool>());
        Assert.True((values.Get("serviceMonitor.honorLabels") ?? defaults.Get("serviceMonitor.honorLabels"))!.GetValue<bool>());
        Assert.Equal("ClusterIP", (values.Get("service.type") ?? defaults.Get("service.type"))!.GetValue<string>());
        Assert.True(values.Get("persistentVolume.enabled")!.GetValue<bool>());
        var mount = (values.Get("persistentVolume.mountPath") ?? defaults.Get("persistentVolume.mountPath"))!.GetValue<string>();
        Assert.Contains(values.Get("extraArgs")!.AsArray(), a => a!.GetValue<string>().StartsWith($"--persistence.file={mount}/", StringComparison.Ordinal));
        Assert.Contains(values.Get("extraArgs")!.AsArray(), a => a!.GetValue<string>() == PushgatewayFlagsTests.NoPerPushCheck);
        Assert.NotNull(values.Get("webConfiguration.existingSecret.name"));
        Assert.Contains(values.Get("serviceMonitor.relabelings")!.AsArray(), r => r!.Str("targetLabel") == "job" && r.Str("replacement") == "pushgateway");

        // The stack's Prometheus selects ServiceMonitors of other releases (the chart sets no release label).
        var stack = YamlJson.LoadSingle(Path.Combine(TerraformText.ModuleDir("monitoring"), "values", "kube-prometheus-stack.yaml"));
        Assert.False(stack.Get("prometheus.prometheusSpec.serviceMonitorSelectorNilUsesHelmValues")!.GetValue<bool>());
    }

    [Theory]
    [InlineData("dev")]
    [InlineData("prod-example")]
    public void EnvironmentsOutputGrafanaHintNamespacesAndPushgatewayUrl(string environment)
    {
        var outputs = File.ReadAllText(DeployPaths.Repo("terraform", "environments", environment, "outputs.tf"));
        foreach (var name in new[] { "grafana_url_hint", "namespaces", "pushgateway_url" })
        {
            Assert.Contains($"output \"{name}\"", outputs, StringComparison.Ordinal);
        }
        Assert.Contains("sensitive   = true", outputs, StringComparison.Ordinal);
        Assert.True(File.Exists(DeployPaths.Repo("terraform", "environments", environment, "terraform.tfvars.example")));
    }

    [Theory]
    [InlineData("dev")]
    [InlineData("prod-example")]
    public void PrometheusRetentionSizeLeavesHeadroomOnItsVolume(string environment)
    {
        var module = TerraformText.ModuleText("monitoring");
        var (_, stack) = TerraformText.Blocks(module, "helm_release").Single(b => b.Name == "kube_prometheus_stack");
        Assert.Matches(@"name\s*=\s*""prometheus\.prometheusSpec\.retentionSize""\s*value\s*=\s*var\.prometheus_retention_size", stack);

        // The environment's setting, else the module's default.
        var main = File.ReadAllText(DeployPaths.Repo("terraform", "environments", environment, "main.tf"));
        var call = TerraformText.BraceBody(main, main.IndexOf('{', main.IndexOf("module \"monitoring\"", StringComparison.Ordinal)));
        var variables = File.ReadAllText(Path.Combine(TerraformText.ModuleDir("monitoring"), "variables.tf"));
        string Setting(string name) => TerraformText.Attribute(call, name)
            ?? TerraformText.Attribute(TerraformText.BraceBody(variables, variables.IndexOf('{', variables.IndexOf($"variable \"{name}\"", StringComparison.Ordinal))), "default")
            ?? throw new InvalidOperationException($"{name}: neither set by {environment} nor defaulted");

        // Prometheus' GB is 2^30 bytes, as Kubernetes' Gi is. The WAL and the head block come on top of retentionSize.
        var volume = long.Parse(Assert.Single(Regex.Matches(Setting("prometheus_storage_size"), @"^(\d+)Gi$")).Groups[1].Value, CultureInfo.InvariantCulture);
        var retention = long.Parse(Assert.Single(Regex.Matches(Setting("prometheus_retention_size"), @"^(\d+)GB$")).Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(retention <= volume * 0.85, $"{environment}: retentionSize {retention}GB leaves under 15 % of the {volume}Gi volume for the WAL");
    }

    [GeneratedRegex(@"templatefile\(""\$\{path\.module\}/rules/rag-rules\.yaml"",\s*\{")]
    private static partial Regex TemplatefileCall();

    [GeneratedRegex(@"(?m)^\s*(\w+)\s*=")]
    private static partial Regex VarName();

    [GeneratedRegex(@"\$\{(\w+)\}")]
    private static partial Regex Placeholder();
}
