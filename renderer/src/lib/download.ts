// Saving exported bytes: the native save dialog in the desktop app, a download in web mode.
import type { ExportDto } from '../../../shared/api';
import type { Api } from './api';
import { base64ToBytes } from './format';

export async function saveExport(
  api: Api,
  native: boolean,
  dto: ExportDto,
): Promise<{ saved: boolean; where: string }> {
  if (native) {
    const r = await api.call('app.saveFile', {
      suggestedName: dto.suggestedName,
      dataBase64: dto.dataBase64,
    });
    return { saved: r.saved, where: r.path ?? dto.suggestedName };
  }
  const bytes = base64ToBytes(dto.dataBase64);
  const blob = new Blob([bytes.buffer as ArrayBuffer], { type: 'application/octet-stream' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = dto.suggestedName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return { saved: true, where: 'your downloads' };
}
