using RagFunctions.Core.Generation.Bedrock;

namespace RagFunctions.UnitTests.Bedrock;

public sealed class DefaultChainCredentialsSourceTests
{
    [Fact]
    public async Task ResolvesEnvironmentCredentialsIncludingSessionTokenOnFirstUse()
    {
        string[] names = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"];
        var saved = names.ToDictionary(n => n, Environment.GetEnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", "ASIAENVEXAMPLE");
            Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", "envSecretExample");
            Environment.SetEnvironmentVariable("AWS_SESSION_TOKEN", "envTokenExample");
            using var source = new DefaultChainCredentialsSource();

            var credentials = await source.GetCredentialsAsync(CancellationToken.None);

            Assert.Equal(new AwsSigningCredentials("ASIAENVEXAMPLE", "envSecretExample", "envTokenExample"), credentials);
        }
        finally
        {
            foreach (var (name, value) in saved)
            {
                Environment.SetEnvironmentVariable(name, value);
            }
        }
    }
}
