namespace Herald.Delivery.Health;

/// <summary>How an attempt's end moved an endpoint's circuit.</summary>
public enum GateChange
{
    None,

    /// <summary>The failures reached the threshold: one probe at a time from now on.</summary>
    Opened,

    /// <summary>A success after the circuit was open: the endpoint recovered.</summary>
    Closed,
}
