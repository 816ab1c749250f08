using System.Diagnostics;
using System.Text;

namespace RagFunctions.IntegrationTests.Infrastructure;

/// <summary>
/// The real ledger as a child process: <c>dotnet exec RagFunctions.Ledger.dll</c> from the test output folder
/// (the project reference copies it there), configured through <c>Ledger__*</c> environment variables.
/// </summary>
public sealed class LedgerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private LedgerProcess(Process process) => _process = process;

    public static string AssemblyPath
    {
        get
        {
            var path = Path.Combine(AppContext.BaseDirectory, "RagFunctions.Ledger.dll");
            return File.Exists(path) ? path : throw new InvalidOperationException($"{path} is missing: build tests/RagFunctions.IntegrationTests (it references the ledger).");
        }
    }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static LedgerProcess Start(IReadOnlyDictionary<string, string> settings)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(AssemblyPath);
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["Logging__Console__FormatterName"] = "simple";
        foreach (var (key, value) in settings)
        {
            info.Environment["Ledger__" + key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start the ledger");
        var ledger = new LedgerProcess(process);
        process.OutputDataReceived += (_, e) => ledger.Append(e.Data);
        process.ErrorDataReceived += (_, e) => ledger.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return ledger;
    }

    /// <summary>SIGKILL by PID, as a node failure would.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            if (_output.Length > 256 * 1024)
            {
                _output.Remove(0, 128 * 1024);
            }

            _output.AppendLine(line);
        }
    }
}
