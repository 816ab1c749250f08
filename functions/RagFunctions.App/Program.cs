using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;
using RagFunctions.App;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.Services.AddRagFunctions(builder.Configuration);
builder.UseRagMiddleware();
builder.Build().Run();
