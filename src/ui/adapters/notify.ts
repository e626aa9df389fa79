/** Errors for the user: a JupyterLab notification with a "Show details" action that opens the full text. */
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';

export function notifyError(message: string, details?: string): void {
  Notification.error(message, {
    autoClose: false,
    actions: details
      ? [
          {
            label: 'Show details',
            callback: () =>
              void showDialog({
                title: message,
                body: details,
                buttons: [Dialog.okButton({ label: 'Close' })]
              })
          }
        ]
      : []
  });
}
