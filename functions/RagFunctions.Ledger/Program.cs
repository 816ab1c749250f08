using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RagFunctions.Ledger;

var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddLedger(builder.Configuration);
await builder.Build().RunAsync();
