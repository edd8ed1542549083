using System.Runtime.InteropServices;

namespace Herald.Cli.Commands;

/// <summary>
/// Ctrl+C (SIGINT) and SIGTERM, taken while they are registered: they cancel <see cref="Token"/>
/// instead of ending the process at once, so that the work under way cleans up after itself.
/// </summary>
internal sealed class StopSignals : IDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _terminate;
    private int _exitCode;

    public StopSignals(CancellationToken cancellationToken)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
    }

    /// <summary>Cancelled by a signal (or by the token given).</summary>
    public CancellationToken Token => _stop.Token;

    public bool Stopped => _stop.IsCancellationRequested;

    /// <summary>The exit code of a process ended by the signal taken: 130 for SIGINT (or none), 143 for SIGTERM.</summary>
    public int ExitCode => _exitCode == 0 ? 130 : _exitCode;

    private void Stop(PosixSignalContext context)
    {
        context.Cancel = true;
        _exitCode = context.Signal == PosixSignal.SIGINT ? 130 : 143;
        _stop.Cancel();
    }

    /// <summary>Gives the signals back to whoever takes them next (the host), and lets the token go.</summary>
    public void Dispose()
    {
        _interrupt.Dispose();
        _terminate.Dispose();
        _stop.Dispose();
    }
}
