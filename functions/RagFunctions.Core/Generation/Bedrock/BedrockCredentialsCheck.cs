using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace RagFunctions.Core.Generation.Bedrock;

/// <summary>
/// Says at start-up what can be known then: whether any link of the default credential chain is configured. It does
/// not stop the app, because an instance role can only be found with a network call at the first query.
/// </summary>
internal sealed class BedrockCredentialsCheck(IBedrockCredentialsSource source, ILogger<BedrockCredentialsCheck> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (source is not DefaultChainCredentialsSource)
        {
            return Task.CompletedTask;
        }

        var probe = DefaultChainCredentialsSource.Probe();
        if (!probe.AnyConfigured)
        {
            if (probe.InstanceMetadataDisabled)
            {
                Log.NoCredentialsPossible(logger, probe.ToString());
            }
            else
            {
                Log.NoCredentialsConfigured(logger, probe.ToString());
            }
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
