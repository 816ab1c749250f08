using System.Text.Json.Nodes;
using Microsoft.Extensions.FileSystemGlobbing;
using RagFunctions.IntegrationTests.Deploy;
using RagFunctions.IntegrationTests.Infrastructure;

namespace RagFunctions.IntegrationTests.LocalDevelopment;

/// <summary>
/// functions/RagFunctions.App/Dockerfile cannot be built here (no Docker engine): its final stage is read instead, and
/// checked against what the Functions host does with it (azure-functions-host: WebScriptHostConfigurationSource,
/// BaseSecretsRepository, SimpleKubernetesClient) and against the pods of keda/base that run it.
/// </summary>
public sealed class DockerfileTests
{
    private static readonly Dockerfile Image = Dockerfile.Load(DeployPaths.Repo("functions", "RagFunctions.App", "Dockerfile"));

    private static readonly IReadOnlyDictionary<string, string> ImageEnvironment = Dockerfile.Environment(Image.FinalStage);

    /// <summary>The host binary, which the image's entrypoint and the Functions pods' command run.</summary>
    private const string HostBinary = "/azure-functions-host/Microsoft.Azure.WebJobs.Script.WebHost";

    /// <summary>Where the host reads keys under AzureWebJobsSecretStorageType=kubernetes: a fixed path (SimpleKubernetesClient).</summary>
    private const string KubernetesKeysFolder = "/run/secrets/functions-keys";

    /// <summary>/tmp is the one folder any user may write: mode 1777 in the Debian base image, an emptyDir in the pods.</summary>
    private const string WritableByAnyUser = "/tmp";

    [Fact]
    public void FinalStageKeepsTheHostSecretsInAFolderANonRootUserCanWrite()
    {
        // Unset, the host uses AppContext.BaseDirectory/Secrets (/azure-functions-host/Secrets, root's) and the blob key
        // store's Sentinels folder cannot be created there.
        Assert.True(ImageEnvironment.TryGetValue("FUNCTIONS_SECRETS_PATH", out var secrets), "the final stage does not set FUNCTIONS_SECRETS_PATH");
        Assert.StartsWith(WritableByAnyUser + "/", secrets, StringComparison.Ordinal);
        Assert.False(ContainerPath.IsAtOrUnder(secrets, KubernetesKeysFolder), $"{secrets} would mix the host's own secrets with the mounted Kubernetes keys");
        // Nothing in the final stage creates the folder as root before the user switch.
        Assert.DoesNotContain(Image.FinalStage, i => i.Keyword != "ENV" && i.Arguments.Contains(secrets, StringComparison.Ordinal));
    }

    [Fact]
    public void FinalStageRunsAsANonRootUidWithAnExecFormEntrypoint()
    {
        var user = Image.FinalStage.Last(i => i.Keyword == "USER").Arguments.Split(':')[0];
        // Numeric, so Kubernetes can verify runAsNonRoot; 0 would be root.
        Assert.True(int.TryParse(user, out var uid) && uid > 0, $"USER {user} is not a non-root numeric uid");
        var entrypoint = Dockerfile.ExecForm(Image.FinalStage.Last(i => i.Keyword == "ENTRYPOINT"));
        Assert.True(entrypoint is not null, "the ENTRYPOINT is in shell form: the host would not be PID 1 and would miss SIGTERM");
        Assert.Equal([HostBinary], entrypoint);
    }

    /// <summary>
    /// Compose's app replaces the image's ENTRYPOINT with the budgets wrapper, and Compose then drops the image's
    /// entrypoint and CMD, so the wrapper's command must name the host itself: exactly the Dockerfile's ENTRYPOINT.
    /// </summary>
    [Fact]
    public void ComposeAppCommandIsTheImagesEntrypoint()
    {
        var app = ComposeModel.Load().Services["app"];
        var entrypoint = Dockerfile.ExecForm(Image.FinalStage.Last(i => i.Keyword == "ENTRYPOINT"));

        Assert.NotEmpty(app.Entrypoint);
        Assert.Equal(entrypoint, app.Command);
    }

    [Fact]
    public void EveryFunctionsPodCanWriteTheSecretsFolderUnderItsReadOnlyRootFilesystem()
    {
        var pods = Directory.GetFiles(DeployPaths.Repo("keda", "base"), "*-deployment.yaml")
            .SelectMany(YamlJson.LoadAll).OfType<JsonObject>().Where(d => d.Str("kind") == "Deployment").ToList();
        var hosts = pods.SelectMany(d => (d.Get("spec.template.spec.containers")?.AsArray() ?? []).OfType<JsonObject>().Select(c => (Pod: d, Container: c)))
            .Where(p => p.Container["command"] is not JsonArray command || command[0]!.GetValue<string>() == HostBinary).ToList();
        Assert.NotEmpty(hosts);
        foreach (var (pod, container) in hosts)
        {
            if (container.Get("securityContext.readOnlyRootFilesystem")?.GetValue<bool>() != true)
            {
                continue; // the image's /tmp is writable by any user
            }
            var name = $"{pod.Str("metadata.name")}/{container.Str("name")}";
            var overridden = (container["env"]?.AsArray() ?? []).FirstOrDefault(e => e.Str("name") == "FUNCTIONS_SECRETS_PATH");
            var secrets = overridden?.Str("value") ?? ImageEnvironment["FUNCTIONS_SECRETS_PATH"];
            var volumes = (pod.Get("spec.template.spec.volumes")?.AsArray() ?? []).OfType<JsonObject>().ToDictionary(v => v.Str("name"));
            var writable = (container["volumeMounts"]?.AsArray() ?? []).OfType<JsonObject>()
                .Where(m => m["readOnly"]?.GetValue<bool>() != true && volumes.TryGetValue(m.Str("name"), out var v) && v["emptyDir"] is not null)
                .Select(m => m.Str("mountPath"));
            Assert.True(writable.Any(path => ContainerPath.IsAtOrUnder(secrets, path)), $"{name}: {secrets} is on the read-only root filesystem");
        }
    }

    [Fact]
    public void BuildContextLeavesOutEverySettingsFileAndKeepsWhatTheBuildCopies()
    {
        var ignore = DockerIgnore();
        string[] settings = ["local.settings.json", "functions/RagFunctions.App/local.settings.json", "functions/RagFunctions.Ledger/local.settings.json"];
        Assert.All(settings, f => Assert.True(ignore.Match(f).HasMatches, $".dockerignore lets {f} into the build context"));

        var copied = Image.Stages[0].Where(i => i.Keyword == "COPY" && !i.Arguments.StartsWith("--from", StringComparison.Ordinal))
            .SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)[..^1]).ToList();
        Assert.Contains("host.json", copied);
        foreach (var source in copied)
        {
            var path = DeployPaths.Repo(source.TrimEnd('/'));
            Assert.True(File.Exists(path) || Directory.Exists(path), $"the build copies {source}, which is not in the repository");
            Assert.False(ignore.Match(source.TrimEnd('/')).HasMatches, $".dockerignore leaves out {source}, which the build copies");
        }
    }

    /// <summary>
    /// .dockerignore as a glob matcher. Its patterns are relative to the context root, `**` spans any number of folders,
    /// and a pattern that names a folder leaves out everything in it. Negations (`!`) are not used in this file.
    /// </summary>
    private static Matcher DockerIgnore()
    {
        var patterns = File.ReadAllLines(DeployPaths.Repo(".dockerignore")).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        Assert.DoesNotContain(patterns, p => p.StartsWith('!'));
        var matcher = new Matcher(StringComparison.Ordinal);
        foreach (var pattern in patterns.Select(p => p.Trim('/')))
        {
            matcher.AddInclude(pattern);
            matcher.AddInclude(pattern + "/**");
        }
        return matcher;
    }
}
