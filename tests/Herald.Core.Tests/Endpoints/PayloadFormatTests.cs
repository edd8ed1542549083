using Herald.Endpoints;
using Herald.Entities;
using Herald.Retry;

namespace Herald.Core.Tests.Endpoints;

public class PayloadFormatTests
{
    [Theory]
    [InlineData(PayloadFormat.Point, EntityKind.PaymentIntent)]
    [InlineData(PayloadFormat.Thin, EntityKind.PaymentOrder)]
    [InlineData(PayloadFormat.Transaction, EntityKind.Transaction)]
    public void Format_RendersOneEntityKind(PayloadFormat format, EntityKind kind)
    {
        Assert.Equal(kind, format.EntityKind());
    }

    [Theory]
    [InlineData("FINISHED", true)]
    [InlineData("CANCELED", true)]
    [InlineData("ERROR", true)]
    [InlineData("OPEN", false)]
    public void Point_NotifiesOnlyTheSeedsStates(string state, bool notified)
    {
        Assert.Equal(notified, PayloadFormat.Point.Notifies(state));
    }

    [Theory]
    [InlineData(PayloadFormat.Thin, "OPENED")]
    [InlineData(PayloadFormat.Transaction, "INIT")]
    [InlineData(PayloadFormat.Transaction, "PROCESSING")]
    public void OtherFormats_NotifyEveryState(PayloadFormat format, string state)
    {
        Assert.True(format.Notifies(state));
    }

    [Fact]
    public void Transaction_DefaultsToExactly200AndHourly()
    {
        Assert.Equal(SuccessRule.Exactly200, PayloadFormat.Transaction.DefaultSuccessRule());
        Assert.Equal(RetryPolicy.Hourly, PayloadFormat.Transaction.DefaultRetryPolicy());
    }

    [Theory]
    [InlineData(PayloadFormat.Point)]
    [InlineData(PayloadFormat.Thin)]
    public void PointAndThin_DefaultToAny2xxAndExponential(PayloadFormat format)
    {
        Assert.Equal(SuccessRule.Any2xx, format.DefaultSuccessRule());
        Assert.Equal(RetryPolicy.Exponential, format.DefaultRetryPolicy());
    }

    [Theory]
    [InlineData("transaction", PayloadFormat.Transaction)]
    [InlineData("point", PayloadFormat.Point)]
    [InlineData("thin", PayloadFormat.Thin)]
    public void Parse_ApiName_RoundTrips(string name, PayloadFormat format)
    {
        Assert.Equal(format, PayloadFormats.Parse(name));
        Assert.Equal(name, format.ApiName());
    }

    [Theory]
    [InlineData("Thin")]
    [InlineData("fat")]
    [InlineData("")]
    public void Parse_UnknownName_Throws(string name)
    {
        Assert.False(PayloadFormats.TryParse(name, out _));
        Assert.Throws<FormatException>(() => PayloadFormats.Parse(name));
    }
}
