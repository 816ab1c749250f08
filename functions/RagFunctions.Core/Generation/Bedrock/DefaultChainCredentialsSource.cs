using Amazon.Runtime;
using Amazon.Runtime.Credentials;

using RagFunctions.Core.Metrics;

namespace RagFunctions.Core.Generation.Bedrock;

/// <summary>
/// The AWS SDK's default credential chain (environment, shared profile, web identity for EKS IRSA via
/// AWSSDK.SecurityToken, container and instance roles). Nothing is resolved until the first signed
/// request, so the app starts without AWS credentials when Bedrock is not used.
/// </summary>
public sealed class DefaultChainCredentialsSource : IBedrockCredentialsSource, IDisposable
{
    private readonly Lazy<DefaultAWSCredentialsIdentityResolver> _resolver = new(() => new DefaultAWSCredentialsIdentityResolver());

    public async ValueTask<AwsSigningCredentials> GetCredentialsAsync(CancellationToken cancellationToken)
    {
        try
        {
            // The resolver caches the chain's answer; refreshing credentials renew themselves inside GetCredentialsAsync.
            var identity = await _resolver.Value.ResolveIdentityAsync(null, cancellationToken);
            var snapshot = await identity.GetCredentialsAsync();
            return new AwsSigningCredentials(snapshot.AccessKey, snapshot.SecretKey, snapshot.UseToken ? snapshot.Token : null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && ex is not BedrockException)
        {
            throw new BedrockException(
                LlmErrorKind.AccessDenied,
                "No usable AWS credentials from the default chain (environment, profile, web identity, container or instance role): " + ex.Message,
                ex);
        }
    }

    public void Dispose()
    {
        if (_resolver.IsValueCreated)
        {
            _resolver.Value.Dispose();
        }
    }
}
