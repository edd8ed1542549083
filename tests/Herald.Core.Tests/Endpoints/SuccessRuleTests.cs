using Herald.Endpoints;

namespace Herald.Core.Tests.Endpoints;

public class SuccessRuleTests
{
    [Theory]
    [InlineData(200, true)]
    [InlineData(201, false)]
    [InlineData(202, false)]
    [InlineData(204, false)]
    [InlineData(302, false)]
    [InlineData(404, false)]
    [InlineData(500, false)]
    public void Exactly200_AcceptsOnly200(int status, bool success)
    {
        Assert.Equal(success, SuccessRule.Exactly200.IsSuccess(status));
    }

    [Theory]
    [InlineData(200, true)]
    [InlineData(202, true)]
    [InlineData(204, true)]
    [InlineData(299, true)]
    [InlineData(199, false)]
    [InlineData(301, false)]
    [InlineData(410, false)]
    [InlineData(503, false)]
    public void Any2xx_AcceptsEvery2xxAndNoRedirect(int status, bool success)
    {
        Assert.Equal(success, SuccessRule.Any2xx.IsSuccess(status));
    }

    [Theory]
    [InlineData("2xx", SuccessRule.Any2xx)]
    [InlineData("200", SuccessRule.Exactly200)]
    public void Parse_ApiName_RoundTrips(string name, SuccessRule rule)
    {
        Assert.Equal(rule, SuccessRules.Parse(name));
        Assert.Equal(name, rule.ApiName());
    }
}
