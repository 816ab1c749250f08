using Microsoft.AspNetCore.Builder;
using RagFunctions.Ledger;

var builder = WebApplication.CreateSlimBuilder(args).AddLedgerHost();
var app = builder.Build();
app.MapLedgerMetrics();
await app.RunAsync();
