using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RagFunctions.CrashingLedger;
using RagFunctions.Ledger;

// The production ledger's composition, plus the crash at Fault:CrashAt (env Fault__CrashAt).
var builder = WebApplication.CreateSlimBuilder(args).AddLedgerHost();
var step = builder.Configuration.GetValue<LedgerCycleStep?>("Fault:CrashAt")
    ?? throw new InvalidOperationException($"Set Fault__CrashAt to one of: {string.Join(", ", Enum.GetNames<LedgerCycleStep>())}.");
builder.Services.AddSingleton<ILedgerCycleObserver>(new CrashAtStep(step));
var app = builder.Build();
app.MapLedgerMetrics();
await app.RunAsync();
