namespace RagFunctions.Core.Generation.Bedrock;

/// <summary>One snapshot of AWS credentials used to sign a single request.</summary>
/// <param name="SessionToken">Temporary-credential token, sent as X-Amz-Security-Token and signed; null for long-term keys.</param>
public sealed record AwsSigningCredentials(string AccessKeyId, string SecretAccessKey, string? SessionToken = null)
{
    // Never print secrets in logs or test failure messages.
    public override string ToString() => $"AwsSigningCredentials {{ AccessKeyId = {AccessKeyId}, SessionToken = {(SessionToken is null ? "none" : "set")} }}";
}
