using BenchmarkDotNet.Running;
using RagFunctions.Benchmarks;

BenchmarkSwitcher.FromAssembly(typeof(QueryOverheadBenchmarks).Assembly).Run(args);
