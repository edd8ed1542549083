using System.Globalization;

namespace Herald.Server.Hosting;

/// <summary>
/// Herald speaks one way whatever the machine's language: its logs' times, the reasons it keeps and
/// its messages' numbers are written as the docs show them. The build turns globalization off, but
/// DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=0 (set by images that install ICU) turns it back on, and
/// LANG then gave a Thai or Persian calendar's year to a JSON log's UTC time, or 86.400 for 86,400.
/// </summary>
public static class InvariantCulture
{
    /// <summary>Sets the process's cultures, its threads' to come included, to the invariant one: first thing in a program that hosts Herald.</summary>
    public static void Pin()
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.DefaultThreadCurrentUICulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentUICulture = CultureInfo.InvariantCulture;
    }
}
