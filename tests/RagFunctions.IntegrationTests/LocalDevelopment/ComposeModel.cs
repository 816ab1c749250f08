using System.Globalization;
using System.Text.Json.Nodes;
using RagFunctions.IntegrationTests.Deploy;

namespace RagFunctions.IntegrationTests.LocalDevelopment;

/// <summary>Paths inside a container (always '/'-separated, whatever the test machine uses).</summary>
public static class ContainerPath
{
    public static bool IsAtOrUnder(string path, string folder) =>
        path == folder || path.StartsWith(folder.TrimEnd('/') + "/", StringComparison.Ordinal);
}

/// <summary>A mount as Compose renders it: a named volume or a bind of a host path (resolved against the compose folder).</summary>
public sealed record ComposeMount(string Type, string? Source, string Target, bool ReadOnly);

/// <summary>A published port as Compose renders it; HostIp null means every interface.</summary>
public sealed record ComposePort(string? HostIp, int Published, int Target);

/// <summary>One service of the rendered model.</summary>
public sealed record ComposeService(
    string Name, JsonObject Raw, string? Image, string? User, string? Restart, IReadOnlyList<string> Command,
    IReadOnlyList<string> Entrypoint, IReadOnlyDictionary<string, string> Environment, IReadOnlyList<ComposeMount> Mounts,
    IReadOnlyList<ComposePort> Ports);

/// <summary>
/// scripts/docker-compose.yml read the way `docker compose config` renders it, for the syntax this project uses: short and
/// long volume and port syntax, environment as a map or a list, command and entrypoint as a string or a list. Anything
/// else fails loudly, so a new construct cannot slip past the tests unread. Variables are not interpolated.
/// </summary>
public sealed class ComposeModel
{
    public static readonly string File = DeployPaths.Repo("scripts", "docker-compose.yml");

    public static ComposeModel Load() => new(YamlJson.LoadSingle(File)!.AsObject(), Path.GetDirectoryName(File)!);

    private ComposeModel(JsonObject document, string folder)
    {
        Document = document;
        Folder = folder;
        Services = document["services"]!.AsObject().ToDictionary(kv => kv.Key, kv => Service(kv.Key, kv.Value!.AsObject(), folder));
        NamedVolumes = (document["volumes"]?.AsObject() ?? []).Select(kv => kv.Key).ToHashSet();
    }

    /// <summary>The YAML document as JSON (anchors resolved), which is what the Compose schema validates.</summary>
    public JsonObject Document { get; }

    /// <summary>The compose file's folder: relative paths in the file are resolved against it.</summary>
    public string Folder { get; }

    public IReadOnlyDictionary<string, ComposeService> Services { get; }

    public IReadOnlySet<string> NamedVolumes { get; }

    private static ComposeService Service(string name, JsonObject raw, string folder) => new(
        name, raw, raw["image"]?.GetValue<string>(), raw["user"]?.GetValue<string>(), raw["restart"]?.GetValue<string>(),
        StringOrList(raw["command"]), StringOrList(raw["entrypoint"]), Environment(name, raw["environment"]),
        [.. (raw["volumes"]?.AsArray() ?? []).Select(v => Mount(name, v!, folder))],
        [.. (raw["ports"]?.AsArray() ?? []).SelectMany(p => Ports(name, p!))]);

    private static List<string> StringOrList(JsonNode? node) => node switch
    {
        null => [],
        JsonArray list => [.. list.Select(n => n!.GetValue<string>())],
        // Compose splits a string command with shell-like rules; this file uses strings only for plain words.
        _ => [.. node.GetValue<string>().Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries)],
    };

    private static Dictionary<string, string> Environment(string service, JsonNode? node) => node switch
    {
        null => [],
        JsonObject map => map.ToDictionary(kv => kv.Key, kv => kv.Value is null ? "" : kv.Value.ToString()),
        JsonArray list => list.Select(e => e!.GetValue<string>().Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : ""),
        _ => throw new InvalidOperationException($"{service}: environment is neither a map nor a list"),
    };

    private static ComposeMount Mount(string service, JsonNode node, string folder)
    {
        if (node is JsonObject longSyntax)
        {
            var type = longSyntax.Str("type");
            var source = longSyntax["source"]?.GetValue<string>();
            return new(type, type == "bind" ? Path.GetFullPath(Path.Combine(folder, source!)) : source,
                longSyntax.Str("target"), longSyntax["read_only"]?.GetValue<bool>() == true);
        }

        // Short syntax: [SOURCE:]TARGET[:MODE]. A source starting with '.', '/' or '~' is a host path, else a volume name.
        var parts = node.GetValue<string>().Split(':');
        var (src, target, mode) = parts.Length switch
        {
            1 => (null, parts[0], ""),
            2 => (parts[0], parts[1], ""),
            3 => (parts[0], parts[1], parts[2]),
            _ => throw new InvalidOperationException($"{service}: cannot read volume {node}"),
        };
        var readOnly = mode.Split(',').Contains("ro");
        return src is null
            ? new("volume", null, target, readOnly)
            : src[0] is '.' or '/' or '~'
                ? new("bind", Path.GetFullPath(Path.Combine(folder, src)), target, readOnly)
                : new("volume", src, target, readOnly);
    }

    private static IEnumerable<ComposePort> Ports(string service, JsonNode node)
    {
        if (node is JsonObject longSyntax)
        {
            var published = longSyntax["published"]?.ToString() ?? throw new InvalidOperationException($"{service}: port without published");
            return Range(longSyntax["host_ip"]?.GetValue<string>(), published, longSyntax["target"]!.ToString(), service);
        }

        // Short syntax: [[HOST_IP:]PUBLISHED:]TARGET[/PROTOCOL]; ranges as FIRST-LAST on both sides. IPv6 is not used here.
        var parts = node.ToString().Split('/')[0].Split(':');
        return parts.Length switch
        {
            3 => Range(parts[0], parts[1], parts[2], service),
            2 => Range(null, parts[0], parts[1], service),
            _ => throw new InvalidOperationException($"{service}: port {node} publishes a random host port on every interface"),
        };
    }

    private static IEnumerable<ComposePort> Range(string? hostIp, string published, string target, string service)
    {
        var (p0, p1) = Bounds(published);
        var (t0, t1) = Bounds(target);
        if (p1 - p0 != t1 - t0)
        {
            throw new InvalidOperationException($"{service}: port ranges {published} and {target} differ in length");
        }
        return Enumerable.Range(0, p1 - p0 + 1).Select(i => new ComposePort(hostIp, p0 + i, t0 + i));
    }

    private static (int First, int Last) Bounds(string range)
    {
        var ends = range.Split('-').Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        return (ends[0], ends[^1]);
    }
}
