using RagFunctions.Ledger;

namespace RagFunctions.UnitTests.Ledger;

public sealed class PushgatewayGroupsTests
{
    // Shape of the Pushgateway 1.5 GET /api/v1/metrics answer (trimmed).
    private const string Json = """
        {"status":"success","data":[
          {"labels":{"instance":"pod-1-ab","job":"rag-functions"},"last_push_successful":true,
           "push_time_seconds":{"type":"GAUGE","metrics":[{"labels":{"instance":"pod-1-ab","job":"rag-functions"},"value":"1.795967487378934e+09"}]},
           "rag_cost_dollars_total":{"type":"COUNTER","help":"Cost.","metrics":[{"labels":{"environment":"dev","instance":"pod-1-ab","job":"rag-functions","model":"m"},"value":"0.30000000000000004"}]},
           "rag_retrieved_documents":{"type":"HISTOGRAM","help":"Docs.","metrics":[{"buckets":{"+Inf":"2","1e-06":"0","1":"1"},"count":"2","labels":{"environment":"dev","instance":"pod-1-ab","job":"rag-functions"},"sum":"5.1"}]},
           "rag_ledger_commits_total":{"type":"COUNTER","metrics":[{"labels":{"instance":"pod-1-ab","job":"rag-functions"},"value":"3"}]},
           "rag_some_gauge":{"type":"GAUGE","metrics":[{"labels":{"instance":"pod-1-ab","job":"rag-functions"},"value":"3"}]},
           "process_cpu_seconds_total":{"type":"COUNTER","metrics":[{"labels":{"instance":"pod-1-ab","job":"rag-functions"},"value":"3"}]}},
          {"labels":{"job":"rag-ledger"},"last_push_successful":true,
           "push_time_seconds":{"type":"GAUGE","metrics":[{"labels":{"instance":"","job":"rag-ledger"},"value":"1.7e+09"}]},
           "rag_cost_dollars_total":{"type":"COUNTER","help":"Cost.","metrics":[{"labels":{"environment":"dev","instance":"","job":"rag-ledger","model":"m"},"value":"9"}]}}
        ]}
        """;

    [Fact]
    public void ReadsOnlyRagCountersAndHistogramsOfInstanceGroups()
    {
        var group = Assert.Single(PushgatewayGroups.Parse(Json, "rag-functions", "rag-ledger").Instances);

        Assert.Equal("pod-1-ab", group.Instance);
        Assert.Equal(1.795967487378934e+09, group.PushTime);
        Assert.Equal(["rag_cost_dollars_total", "rag_retrieved_documents"], group.Families.Keys.Order());
        Assert.Contains(new Sample("rag_cost_dollars_total", "environment=\"dev\",model=\"m\"", SamplePart.Counter, 0.30000000000000004), group.Samples);
        Assert.Contains(new Sample("rag_retrieved_documents", "environment=\"dev\"", SamplePart.Bucket(1e-6), 0), group.Samples);
        Assert.Contains(new Sample("rag_retrieved_documents", "environment=\"dev\"", SamplePart.Bucket(double.PositiveInfinity), 2), group.Samples);
        Assert.Contains(new Sample("rag_retrieved_documents", "environment=\"dev\"", SamplePart.Sum, 5.1), group.Samples);
        Assert.Equal(6, group.Samples.Count);
    }

    [Fact]
    public void NeverFoldsAGroupUnderTheLedgersJobButReportsItAsForeign()
    {
        var (instances, foreign, groupCount) = PushgatewayGroups.Parse(Json, "rag-ledger", "rag-ledger");

        Assert.Empty(instances);
        var group = Assert.Single(foreign);
        Assert.Equal((string.Empty, 1.7e9), (group.Key, group.PushTime));
        Assert.Empty(group.Labels);
        Assert.Equal(2, groupCount);
    }

    [Fact]
    public void KeysAForeignGroupByItsGroupingLabelsOtherThanJob()
    {
        const string json = """
            {"status":"success","data":[{"labels":{"job":"rag-ledger","instance":"x/y","zone":"a"},
             "push_time_seconds":{"type":"GAUGE","metrics":[{"labels":{},"value":"5"}]}}]}
            """;

        var group = Assert.Single(PushgatewayGroups.Parse(json, "rag-functions", "rag-ledger").Foreign);

        Assert.Equal("instance=x%2Fy/zone=a", group.Key);
        Assert.Equal("x/y", group.Labels["instance"]);
    }

    [Fact]
    public void CanonicalLabelsAreSortedEscapedAndWithoutGroupingKey()
    {
        var labels = SamplePart.CanonicalLabels(new Dictionary<string, string>
        {
            ["model"] = "a\"b\\c",
            ["job"] = "x",
            ["instance"] = "y",
            ["environment"] = "dev",
        });

        Assert.Equal("environment=\"dev\",model=\"a\\\"b\\\\c\"", labels);
    }

    [Fact]
    public void SampleKeysAreBuiltFromTheConstructorAndKeptByWith()
    {
        var sample = new Sample("rag_retrieved_documents", "environment=\"dev\"", SamplePart.Sum, 5);

        // The key parts are get-only: a with can change only the value, and the keys it copies stay right.
        var moved = new Sample("rag_query_cost_dollars", "environment=\"prod\"", SamplePart.Count, 5) with { Value = 6 };

        Assert.Equal("rag_retrieved_documents{environment=\"dev\"}", sample.Unit);
        Assert.Equal("rag_retrieved_documents{environment=\"dev\"}#sum", sample.Id);
        Assert.Equal("rag_query_cost_dollars{environment=\"prod\"}", moved.Unit);
        Assert.Equal("rag_query_cost_dollars{environment=\"prod\"}#count", moved.Id);
        Assert.Equal(new Sample("rag_query_cost_dollars", "environment=\"prod\"", SamplePart.Count, 6), moved);
        Assert.Equal(sample.Id, (sample with { Value = 7 }).Id);
    }
}
