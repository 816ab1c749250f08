using System.Collections;
using System.Globalization;
using RagFunctions.TestHost;

namespace RagFunctions.SimulatedPod;

/// <summary>What one simulated pod is told at start: its name, storage, host.json, corpus and the endpoints it talks to.</summary>
internal sealed record PodOptions(
    string PodName, string Storage, string HostJson, string Corpus, string? Pushgateway, string? Bedrock, double? LeaseSeconds, double? VisibilitySeconds)
{
    public static PodOptions Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            values[args[i].TrimStart('-')] = args[i + 1];
        }

        string Required(string name) =>
            values.TryGetValue(name, out var value) ? value : throw new ArgumentException($"--{name} is required.", nameof(args));

        double? Seconds(string name) =>
            values.TryGetValue(name, out var value) ? double.Parse(value, CultureInfo.InvariantCulture) : null;

        return new PodOptions(
            Required("pod-name"), Required("storage"), Required("host-json"), Required("corpus"),
            values.GetValueOrDefault("pushgateway"), values.GetValueOrDefault("bedrock"), Seconds("lease-seconds"), Seconds("visibility-seconds"));
    }

    /// <summary>The app's settings: the Rag__* environment, then what the arguments say.</summary>
    public Dictionary<string, string?> AppSettings()
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            var key = (string)entry.Key;
            if (key.StartsWith("Rag__", StringComparison.Ordinal))
            {
                settings[key.Replace("__", ":", StringComparison.Ordinal)] = (string?)entry.Value;
            }
        }

        settings["AzureWebJobsStorage"] = Storage;
        settings["Rag:CorpusPath"] = Corpus;
        if (Pushgateway is not null)
        {
            settings["Rag:Push:Enabled"] = "true";
            settings["Rag:Push:Url"] = Pushgateway;
        }

        if (Bedrock is not null)
        {
            settings["Rag:Generation:Provider"] = "Bedrock";
            settings["Rag:Generation:Bedrock:Endpoint"] = Bedrock;
            settings.TryAdd("Rag:Generation:Bedrock:Region", "us-east-1");
            settings.TryAdd("Rag:Generation:Bedrock:ModelId", "amazon.nova-lite-v1:0");
        }

        return settings;
    }

    /// <summary>host.json's queue settings, with the lease and retry backoff shortened when a bounded test asks.</summary>
    public QueueHostSettings QueueSettings()
    {
        var settings = QueueHostSettings.FromHostJson(HostJson);
        if (LeaseSeconds is { } lease)
        {
            settings = settings with { MessageLease = TimeSpan.FromSeconds(lease) };
        }

        if (VisibilitySeconds is { } visibility)
        {
            settings = settings with { VisibilityTimeout = TimeSpan.FromSeconds(visibility) };
        }

        return settings;
    }
}
