namespace RagFunctions.IntegrationTests.Infrastructure;

/// <summary>
/// The real ledger as a child process: <c>dotnet exec RagFunctions.Ledger.dll</c> from the test output folder
/// (the project reference copies it there), configured through <c>Ledger__*</c> environment variables.
/// </summary>
public sealed class LedgerProcess : IDisposable
{
    private readonly BackgroundServer _process;

    private LedgerProcess(BackgroundServer process) => _process = process;

    public static string AssemblyPath
    {
        get
        {
            var path = Path.Combine(AppContext.BaseDirectory, "RagFunctions.Ledger.dll");
            return File.Exists(path) ? path : throw new InvalidOperationException($"{path} is missing: build tests/RagFunctions.IntegrationTests (it references the ledger).");
        }
    }

    public int Pid => _process.Pid;

    public bool HasExited => _process.HasExited;

    public string Output => _process.Output;

    public static LedgerProcess Start(IReadOnlyDictionary<string, string> settings)
    {
        var environment = new Dictionary<string, string>
        {
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["Logging__Console__FormatterName"] = "simple",
        };
        foreach (var (key, value) in settings)
        {
            environment["Ledger__" + key] = value;
        }

        return new LedgerProcess(BackgroundServer.Launch("ledger", "dotnet", ["exec", AssemblyPath], environment: environment));
    }

    /// <summary>SIGKILL by PID, as a node failure would.</summary>
    public void Kill() => _process.Kill();

    public void Dispose() => _process.Dispose();
}
