-- AlterTable
ALTER TABLE "group_receipts" ADD COLUMN     "message_sender" TEXT,
ADD COLUMN     "receiver" TEXT;
