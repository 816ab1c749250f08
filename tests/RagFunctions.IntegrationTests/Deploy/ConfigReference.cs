using System.Text.Json.Nodes;

namespace RagFunctions.IntegrationTests.Deploy;

/// <summary>
/// A reference from a rendered object to a ConfigMap or Secret by name (and, for some, to one of its keys): what the
/// kubelet or KEDA looks up at run time, so what must resolve in the same namespace for a pod to start.
/// </summary>
public sealed record ConfigReference(Manifest From, string Via, string Kind, string Name, string? Key)
{
    public override string ToString() => $"{From} {Via} → {Kind}/{Name}{(Key is null ? "" : $" key {Key}")}";

    /// <summary>Every reference of <paramref name="m"/>: envFrom, env valueFrom, volumes (incl. projected) and TriggerAuthentication secretTargetRef.</summary>
    public static IEnumerable<ConfigReference> Of(Manifest m)
    {
        if (m.Kind == "TriggerAuthentication")
        {
            foreach (var r in (m.Body.Get("spec.secretTargetRef")?.AsArray() ?? []).OfType<JsonObject>())
            {
                yield return new(m, "secretTargetRef", "Secret", r.Str("name"), r.Str("key"));
            }
        }

        foreach (var c in Kustomize.Containers(m))
        {
            foreach (var from in (c["envFrom"]?.AsArray() ?? []).OfType<JsonObject>())
            {
                if (from.Get("configMapRef.name") is { } cm)
                {
                    yield return new(m, "envFrom", "ConfigMap", cm.GetValue<string>(), null);
                }
                if (from.Get("secretRef.name") is { } secret)
                {
                    yield return new(m, "envFrom", "Secret", secret.GetValue<string>(), null);
                }
            }
            foreach (var env in (c["env"]?.AsArray() ?? []).OfType<JsonObject>())
            {
                if (env.Get("valueFrom.configMapKeyRef") is JsonObject cm)
                {
                    yield return new(m, $"env {env.Str("name")} valueFrom", "ConfigMap", cm.Str("name"), cm.Str("key"));
                }
                if (env.Get("valueFrom.secretKeyRef") is JsonObject secret)
                {
                    yield return new(m, $"env {env.Str("name")} valueFrom", "Secret", secret.Str("name"), secret.Str("key"));
                }
            }
        }

        foreach (var volume in (m.Body.Get("spec.template.spec.volumes")?.AsArray() ?? []).OfType<JsonObject>())
        {
            var via = $"volume {volume.Str("name")}";
            if (volume["configMap"] is JsonObject cm)
            {
                foreach (var r in WithItems(m, via, "ConfigMap", cm.Str("name"), cm))
                {
                    yield return r;
                }
            }
            if (volume["secret"] is JsonObject secret)
            {
                foreach (var r in WithItems(m, via, "Secret", secret.Str("secretName"), secret))
                {
                    yield return r;
                }
            }
            foreach (var source in (volume.Get("projected.sources")?.AsArray() ?? []).OfType<JsonObject>())
            {
                foreach (var (field, kind) in new[] { ("configMap", "ConfigMap"), ("secret", "Secret") })
                {
                    if (source[field] is JsonObject s)
                    {
                        foreach (var r in WithItems(m, via, kind, s.Str("name"), s))
                        {
                            yield return r;
                        }
                    }
                }
            }
        }
    }

    private static IEnumerable<ConfigReference> WithItems(Manifest m, string via, string kind, string name, JsonObject source)
    {
        var items = (source["items"]?.AsArray() ?? []).OfType<JsonObject>().ToList();
        return items.Count == 0 ? [new(m, via, kind, name, null)] : items.Select(i => new ConfigReference(m, via, kind, name, i.Str("key")));
    }
}
