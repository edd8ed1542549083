namespace Herald.Endpoints;

/// <summary>Which HTTP answers count as the receiver having taken the notification.</summary>
public enum SuccessRule
{
    /// <summary>Any 2xx status.</summary>
    Any2xx,

    /// <summary>Exactly 200, as seed 003 requires.</summary>
    Exactly200,
}

public static class SuccessRules
{
    public static string ApiName(this SuccessRule rule) => rule == SuccessRule.Exactly200 ? "200" : "2xx";

    public static bool TryParse(string? value, out SuccessRule rule)
    {
        switch (value)
        {
            case "2xx":
                rule = SuccessRule.Any2xx;
                return true;
            case "200":
                rule = SuccessRule.Exactly200;
                return true;
            default:
                rule = default;
                return false;
        }
    }

    public static SuccessRule Parse(string value) =>
        TryParse(value, out var r) ? r : throw new FormatException($"unknown success rule '{value}'");

    /// <summary>Redirects (3xx) are never followed and never count as success.</summary>
    public static bool IsSuccess(this SuccessRule rule, int statusCode) =>
        rule == SuccessRule.Exactly200 ? statusCode == 200 : statusCode is >= 200 and <= 299;
}
