using RagFunctions.Verify;

VerifyOptions options;
try
{
    options = VerifyOptions.Parse(args, Environment.CurrentDirectory, Environment.GetEnvironmentVariable(VerifyOptions.PushgatewayPasswordVariable));
}
catch (ArgumentException ex)
{
    await Console.Error.WriteLineAsync($"verify: {ex.Message}\n\n{VerifyOptions.Usage}");
    return 2;
}

using var client = new HttpClient { Timeout = options.RequestTimeout };
var checks = new StackChecks(options, new StackHttp(client, options.Pushgateway, options.PushgatewayLogin));
int passed = 0, failed = 0, skipped = 0;
await foreach (var result in checks.RunAsync())
{
    Console.WriteLine(result);
    _ = result.Status switch
    {
        CheckStatus.Pass => passed++,
        CheckStatus.Fail => failed++,
        _ => skipped++,
    };
}

Console.WriteLine($"verify: {passed} passed, {failed} failed, {skipped} skipped ({options.Prometheus}, environment=\"{options.Environment}\")");
return failed == 0 ? 0 : 1;
