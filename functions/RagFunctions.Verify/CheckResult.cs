namespace RagFunctions.Verify;

public enum CheckStatus
{
    Pass,
    Fail,
    Skip,
}

/// <summary>One line of the report: a stable check name, its status and what was seen.</summary>
public sealed record CheckResult(string Name, CheckStatus Status, string Detail)
{
    public static CheckResult Pass(string name, string detail) => new(name, CheckStatus.Pass, detail);

    public static CheckResult Fail(string name, string detail) => new(name, CheckStatus.Fail, detail);

    public static CheckResult Skip(string name, string detail) => new(name, CheckStatus.Skip, detail);

    public override string ToString() => $"{Status.ToString().ToUpperInvariant(),-4}  {Name}: {Detail}";
}
