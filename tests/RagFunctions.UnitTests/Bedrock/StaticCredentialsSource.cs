using RagFunctions.Core.Generation.Bedrock;

namespace RagFunctions.UnitTests.Bedrock;

/// <summary>Fixed credentials for the Bedrock stand-in; production resolves them through the default chain.</summary>
internal sealed class StaticCredentialsSource(AwsSigningCredentials credentials) : IBedrockCredentialsSource
{
    public ValueTask<AwsSigningCredentials> GetCredentialsAsync(CancellationToken cancellationToken) => ValueTask.FromResult(credentials);
}
