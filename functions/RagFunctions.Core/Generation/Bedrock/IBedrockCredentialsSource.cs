namespace RagFunctions.Core.Generation.Bedrock;

/// <summary>
/// Supplies credentials for each signed Bedrock request. Called once per attempt, so refreshing
/// sources (STS web identity, container/instance roles) hand out fresh session tokens.
/// </summary>
public interface IBedrockCredentialsSource
{
    ValueTask<AwsSigningCredentials> GetCredentialsAsync(CancellationToken cancellationToken);
}
